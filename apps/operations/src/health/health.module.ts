import { Module } from '@nestjs/common';
import { CommandsModule } from '../commands/commands.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [CommandsModule, MetricsModule], controllers: [HealthController] })
export class HealthModule {}
