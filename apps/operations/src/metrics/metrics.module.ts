import { Module } from '@nestjs/common';
import { OperationsMetrics } from './operations-metrics.service.js';

/** The service's one Prometheus registry, shared by every module that counts something. */
@Module({ providers: [OperationsMetrics], exports: [OperationsMetrics] })
export class MetricsModule {}
