import { Controller, Get, HttpCode, HttpStatus, Res } from '@nestjs/common';
import { MqttConsumer } from '../mqtt/mqtt-consumer.service.js';
import { InfluxStoreProvider } from '../storage/influx-store.provider.js';

interface Readiness {
  status: 'ok' | 'unavailable';
  checks: { influxdb: 'up' | 'down'; broker: 'up' | 'down' };
  pendingMessages: number;
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly consumer: MqttConsumer,
    private readonly store: InfluxStoreProvider,
  ) {}

  /** Liveness: the process answers. */
  @Get('live')
  @HttpCode(HttpStatus.OK)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: InfluxDB answers its ping and the MQTT session is up; 503 otherwise. */
  @Get(['', 'ready'])
  async ready(
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<Readiness> {
    const influxUp = await this.store.ping();
    const brokerUp = this.consumer.connected;
    const ok = influxUp && brokerUp;
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: ok ? 'ok' : 'unavailable',
      checks: { influxdb: influxUp ? 'up' : 'down', broker: brokerUp ? 'up' : 'down' },
      pendingMessages: this.consumer.pending,
    };
  }
}
