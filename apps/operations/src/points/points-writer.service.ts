import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InfluxStore } from '@parkpulse/influx';
import { OPERATIONS_CONFIG, type OperationsConfig } from '../config/operations-config.js';
import { OperationsMetrics } from '../metrics/operations-metrics.service.js';

type Point = Parameters<InfluxStore['write']>[0][number];

/**
 * The service's points for dashboards (`device_command`, `alarm_event`), written to InfluxDB
 * best effort: the database is the record. Nobody waits for a write; a failed one is counted by
 * measurement and logged at most once a minute per measurement. Shutdown waits for writes in
 * flight. Without `INFLUX_URL`, nothing is written.
 */
@Injectable()
export class PointsWriter implements OnApplicationShutdown {
  private readonly log = new Logger('PointsWriter');
  private readonly influx: InfluxStore | undefined;
  private readonly lastWarning = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    @Inject(OPERATIONS_CONFIG) config: OperationsConfig,
    private readonly metrics: OperationsMetrics,
  ) {
    this.influx = config.influx ? new InfluxStore(config.influx) : undefined;
  }

  get enabled(): boolean {
    return this.influx !== undefined;
  }

  write(measurement: string, point: Point): void {
    if (!this.influx) return;
    const write = this.influx.write([point]).catch((error: Error) => {
      this.metrics.influxFailed.inc({ measurement });
      const now = Date.now();
      if (now - (this.lastWarning.get(measurement) ?? 0) > 60_000) {
        this.lastWarning.set(measurement, now);
        this.log.warn(`${measurement} not written to InfluxDB: ${error.message}`);
      }
    });
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.pending]);
    this.influx?.close();
  }
}
