import { Module } from '@nestjs/common';
import { SpoolService } from './spool.service.js';

/** The disk spool: batches kept on local disk while InfluxDB is down (replayed by storage/). */
@Module({
  providers: [SpoolService],
  exports: [SpoolService],
})
export class SpoolModule {}
