import { Global, Module } from '@nestjs/common';
import { IngestMetrics } from './ingest-metrics.service.js';
import { MetricsController } from './metrics.controller.js';

/** Prometheus figures of the ingestion (`GET /metrics`), shared by every other module. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [IngestMetrics],
  exports: [IngestMetrics],
})
export class MetricsModule {}
