import { Controller, Get, Header } from '@nestjs/common';
import { Registry } from 'prom-client';
import { IngestMetrics } from './ingest-metrics.service.js';

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: IngestMetrics) {}

  @Get()
  @Header('content-type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('cache-control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
