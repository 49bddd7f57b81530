import { Controller, Get, Header, Res } from '@nestjs/common';
import { OperationsMetrics } from '../metrics/operations-metrics.service.js';
import { MqttLinkService } from '../mqtt/mqtt-link.service.js';

interface RawResponse {
  status(code: number): RawResponse;
  json(body: unknown): void;
}

@Controller()
export class HealthController {
  constructor(
    private readonly mqtt: MqttLinkService,
    private readonly metrics: OperationsMetrics,
  ) {}

  /** Ready: the database was migrated (or the service would not be up) and the MQTT session is subscribed. */
  @Get('health')
  health(@Res() res: RawResponse): void {
    const ready = this.mqtt.ready;
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ok' : 'down', mqtt: ready ? 'subscribed' : 'down' });
  }

  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
