import { Module } from '@nestjs/common';
import { MqttModule } from '../mqtt/mqtt.module.js';
import { StorageModule } from '../storage/storage.module.js';
import { HealthController } from './health.controller.js';
import { InfluxHealth } from './influx-health.service.js';

/** `GET /health` (readiness: broker, and InfluxDB or the spool) and `GET /health/live` (liveness). */
@Module({
  imports: [MqttModule, StorageModule],
  controllers: [HealthController],
  providers: [InfluxHealth],
})
export class HealthModule {}
