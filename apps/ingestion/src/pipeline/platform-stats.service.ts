import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Point } from '@influxdata/influxdb-client';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { IngestMetrics, type IngestTotals } from '../metrics/ingest-metrics.service.js';
import { BatchWriter } from '../storage/batch-writer.service.js';

export const PLATFORM_MEASUREMENT = {
  ingestion: 'platform_ingestion',
  broker: 'platform_broker',
} as const;

/**
 * The platform's own figures in the same database as the telemetry, so that Grafana shows
 * platform health from one datasource: the ingestion's per-interval counts every
 * `statsIntervalMs`, and each broker's `$SYS/parkpulse/brokers/{id}/stats` as it arrives.
 */
@Injectable()
export class PlatformStats implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('PlatformStats');
  private timer: NodeJS.Timeout | undefined;
  private previous: IngestTotals;
  private previousAt = Date.now();
  /** Each broker's last totals, for per-interval counts (a dashboard cannot difference sparse counters cheaply). */
  private readonly brokerTotals = new Map<string, { ts: number; in: number; out: number }>();

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly metrics: IngestMetrics,
    private readonly writer: BatchWriter,
  ) {
    this.previous = { ...metrics.totals };
  }

  onModuleInit(): void {
    if (this.config.statsIntervalMs > 0)
      this.timer = setInterval(() => this.report(), this.config.statsIntervalMs).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Writes one `platform_ingestion` point with the counts since the previous one. */
  report(): void {
    const now = Date.now();
    const totals = { ...this.metrics.totals };
    const delta = (k: keyof IngestTotals) => totals[k] - this.previous[k];
    const latencies = this.metrics.drainLatencies().sort((a, b) => a - b);
    const point = new Point(PLATFORM_MEASUREMENT.ingestion)
      .tag('instance', this.config.instanceId)
      .floatField('interval_s', (now - this.previousAt) / 1000)
      .floatField('messages_in', delta('messagesIn'))
      .floatField('points_written', delta('pointsWritten'))
      .floatField('rejects', delta('rejects'))
      .floatField('fields_dropped', delta('fieldsDropped'))
      .floatField('write_errors', delta('writeErrors'))
      .floatField('batches', delta('batches'))
      .floatField('pending_messages', this.metrics.pendingNow)
      .floatField('points_spooled', delta('pointsSpooled'))
      .floatField('points_replayed', delta('pointsReplayed'))
      .floatField('spool_bytes', this.metrics.spoolBytesNow)
      .floatField('spool_segments', this.metrics.spoolSegmentsNow)
      .timestamp(now);
    if (latencies.length > 0) {
      point
        .floatField('write_latency_p50_ms', percentile(latencies, 0.5))
        .floatField('write_latency_p99_ms', percentile(latencies, 0.99));
    }
    this.previous = totals;
    this.previousAt = now;
    this.writer.submit({
      points: [point],
      stored: () => undefined,
      topic: PLATFORM_MEASUREMENT.ingestion,
    });
  }

  /** `$SYS/parkpulse/brokers/{id}/stats` JSON → a `platform_broker` point (nothing if malformed). */
  brokerStatsPoints(payload: Buffer): Point[] {
    try {
      const s = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
      if (typeof s['broker'] !== 'string' || typeof s['ts'] !== 'number') return [];
      const point = new Point(PLATFORM_MEASUREMENT.broker)
        .tag('broker', s['broker'])
        .timestamp(Math.floor(s['ts']));
      for (const [field, key] of [
        ['clients', 'clients'],
        ['messages_in_total', 'messagesIn'],
        ['messages_out_total', 'messagesOut'],
        ['uptime_s', 'uptimeS'],
        // What the broker refused, shed or throttled (totals since its start).
        ['connections_refused_total', 'connectionsRefused'],
        ['auth_refused_total', 'authRefused'],
        ['publish_refused_total', 'publishRefused'],
        ['subscribe_refused_total', 'subscribeRefused'],
        ['deliveries_shed_total', 'deliveriesShed'],
        ['limit_disconnects_total', 'limitDisconnects'],
        ['publish_throttled_total', 'publishThrottled'],
        ['clients_throttled', 'clientsThrottled'],
      ] as const) {
        const v = s[key];
        if (typeof v === 'number' && Number.isFinite(v)) point.floatField(field, v);
      }
      const ts = Math.floor(s['ts']);
      const totals = { ts, in: Number(s['messagesIn']), out: Number(s['messagesOut']) };
      const before = this.brokerTotals.get(s['broker']);
      // A broker restart resets its totals: that interval has no count.
      if (before && totals.ts > before.ts && totals.in >= before.in && totals.out >= before.out)
        point
          .floatField('interval_s', (totals.ts - before.ts) / 1000)
          .floatField('messages_in', totals.in - before.in)
          .floatField('messages_out', totals.out - before.out);
      if (Number.isFinite(totals.in) && Number.isFinite(totals.out))
        this.brokerTotals.set(s['broker'], totals);
      return [point];
    } catch {
      this.logger.debug('malformed broker stats ignored');
      return [];
    }
  }
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}
