import { Module } from '@nestjs/common';
import { BatchWriter } from './batch-writer.service.js';
import { InfluxStoreProvider } from './influx-store.provider.js';

/** Everything that writes to or reads from InfluxDB. */
@Module({
  providers: [InfluxStoreProvider, BatchWriter],
  exports: [InfluxStoreProvider, BatchWriter],
})
export class StorageModule {}
