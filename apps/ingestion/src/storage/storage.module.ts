import { Module } from '@nestjs/common';
import { DeadLettersModule } from '../dead-letters/dead-letters.module.js';
import { SpoolModule } from '../spool/spool.module.js';
import { BatchWriter } from './batch-writer.service.js';
import { InfluxStoreProvider } from './influx-store.provider.js';
import { InfluxWriter } from './influx-writer.service.js';
import { SpoolReplayer } from './spool-replayer.service.js';

/** Everything that writes to or reads from InfluxDB, the disk spool's replay included. */
@Module({
  imports: [SpoolModule, DeadLettersModule],
  providers: [InfluxStoreProvider, InfluxWriter, BatchWriter, SpoolReplayer],
  exports: [InfluxStoreProvider, InfluxWriter, BatchWriter, SpoolReplayer, SpoolModule],
})
export class StorageModule {}
