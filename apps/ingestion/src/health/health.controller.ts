import { Controller, Get, HttpCode, HttpStatus, Res } from '@nestjs/common';
import { MqttConsumer } from '../mqtt/mqtt-consumer.service.js';
import { SpoolService } from '../spool/spool.service.js';
import { InfluxStoreProvider } from '../storage/influx-store.provider.js';

interface Readiness {
  status: 'ok' | 'unavailable';
  checks: {
    influxdb: 'up' | 'down';
    broker: 'up' | 'down';
    /** `off` (SPOOL_MAX_BYTES=0), `empty`, `holding` (data waiting for replay) or `full`. */
    spool: 'off' | 'empty' | 'holding' | 'full';
  };
  pendingMessages: number;
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly consumer: MqttConsumer,
    private readonly store: InfluxStoreProvider,
    private readonly spool: SpoolService,
  ) {}

  /** Liveness: the process answers. */
  @Get('live')
  @HttpCode(HttpStatus.OK)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: the MQTT session is up and messages can be stored — InfluxDB answers its ping, or
   * the disk spool has room for them; 503 otherwise.
   */
  @Get(['', 'ready'])
  async ready(
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<Readiness> {
    const influxUp = await this.store.ping();
    const brokerUp = this.consumer.connected;
    const spool = !this.spool.enabled
      ? 'off'
      : this.spool.isFull
        ? 'full'
        : this.spool.empty
          ? 'empty'
          : 'holding';
    const storable = influxUp || spool === 'empty' || spool === 'holding';
    const ok = brokerUp && storable;
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: ok ? 'ok' : 'unavailable',
      checks: { influxdb: influxUp ? 'up' : 'down', broker: brokerUp ? 'up' : 'down', spool },
      pendingMessages: this.consumer.pending,
    };
  }
}
