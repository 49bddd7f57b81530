import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { PointsWriter } from './points-writer.service.js';

/** What the service writes to InfluxDB for dashboards. */
@Module({ imports: [MetricsModule], providers: [PointsWriter], exports: [PointsWriter] })
export class PointsModule {}
