import { Controller, Get, HttpCode, HttpStatus, Res } from '@nestjs/common';
import { MqttConsumer } from '../mqtt/mqtt-consumer.service.js';
import { SpoolService } from '../spool/spool.service.js';
import { InfluxHealth } from './influx-health.service.js';

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
    private readonly influx: InfluxHealth,
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
   * the disk spool has room for them; 503 otherwise. From the last known state (InfluxDB is
   * pinged in the background, see InfluxHealth): it answers at once, also while InfluxDB hangs.
   * `full`: the spool refused an append for lack of room — its byte budget or the disk's.
   */
  @Get(['', 'ready'])
  ready(@Res({ passthrough: true }) res: { status(code: number): unknown }): Readiness {
    const influxUp = this.influx.up;
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
