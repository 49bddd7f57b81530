import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InfluxStore, commandPoint } from '@parkpulse/influx';
import type { ParkId } from '@parkpulse/telemetry';
import { OPERATIONS_CONFIG, type OperationsConfig } from '../config/operations-config.js';
import type { CommandRecord } from '../store/command-store.js';
import { OperationsMetrics } from './operations-metrics.service.js';

/**
 * Every state change also as a `device_command` point (source `operations`), so dashboards show
 * deliveries and results beside the telemetry. Best effort: the database is the record; a
 * failed write is counted and logged at most once a minute.
 */
@Injectable()
export class CommandRecorder implements OnApplicationShutdown {
  private readonly log = new Logger('CommandRecorder');
  private readonly influx: InfluxStore | undefined;
  private lastWarning = 0;
  private pending = new Set<Promise<void>>();

  constructor(
    @Inject(OPERATIONS_CONFIG) config: OperationsConfig,
    private readonly metrics: OperationsMetrics,
  ) {
    this.influx = config.influx ? new InfluxStore(config.influx) : undefined;
  }

  record(command: CommandRecord, state: string, at: number, by: string, detail: string): void {
    if (!this.influx) return;
    const point = commandPoint({
      topic: {
        park: command.park as ParkId,
        site: command.site,
        assetType: command.assetType,
        deviceId: command.deviceId,
        channel: 'cmd',
      },
      id: command.id,
      name: command.name,
      status: state,
      source: 'operations',
      ts: at,
      by,
      ...(detail ? { detail } : {}),
    });
    const write = this.influx.write([point]).catch((error: Error) => {
      this.metrics.influxFailed.inc();
      if (Date.now() - this.lastWarning > 60_000) {
        this.lastWarning = Date.now();
        this.log.warn(`device_command not written to InfluxDB: ${error.message}`);
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
