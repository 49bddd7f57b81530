import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Point } from '@influxdata/influxdb-client';
import { InfluxWriteError, rejectPoint, uniqueNowMs } from '@parkpulse/influx';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import { InfluxStoreProvider } from './influx-store.provider.js';

/** The points of one MQTT message, and what to do once they are stored. */
export interface Submission {
  readonly points: readonly Point[];
  /** Called exactly once, after InfluxDB accepted the points (or their dead letter). */
  readonly stored: () => void;
  /** For the dead letter when InfluxDB refuses this message's points. */
  readonly topic: string;
  readonly park?: string;
}

const MAX_BACKOFF_MS = 10_000;

/**
 * Groups the points of many messages into one InfluxDB write (up to `maxPoints`, or after
 * `flushMs`), with at most `concurrency` writes in flight. A message is reported stored only
 * once its write succeeded:
 * - the database is unreachable or failing: the same batch is retried with exponential back-off
 *   and jitter, forever; nothing is acknowledged meanwhile, so the broker keeps the messages and
 *   the consumer's pending limit stops reading (back-pressure, never a drop);
 * - InfluxDB refuses the data (HTTP 400/413, e.g. a field-type conflict): the batch is split and
 *   each message written alone, so one bad message cannot sink its neighbours; a message still
 *   refused becomes a dead letter (`storage_rejected`).
 */
@Injectable()
export class BatchWriter {
  private readonly logger = new Logger('BatchWriter');
  private queue: Submission[] = [];
  private queuedPoints = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly store: InfluxStoreProvider,
    private readonly metrics: IngestMetrics,
  ) {}

  submit(submission: Submission): void {
    this.queue.push(submission);
    this.queuedPoints += submission.points.length;
    this.metrics.setQueuedPoints(this.queuedPoints);
    if (this.queuedPoints >= this.config.batch.maxPoints) this.pump();
    else this.timer ??= setTimeout(() => this.pump(), this.config.batch.flushMs);
  }

  /** Resolves when every submitted message has been stored (used by graceful shutdown). */
  drain(): Promise<void> {
    this.pump();
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops retrying (shutdown deadline passed): unstored messages stay unacknowledged. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 && this.inFlight < this.config.batch.concurrency) {
      const batch = this.take();
      this.inFlight++;
      this.writeBatch(batch)
        .catch((error: unknown) => this.logger.error(`batch lost its way: ${String(error)}`))
        .finally(() => {
          this.inFlight--;
          this.pump();
          if (this.queue.length === 0 && this.inFlight === 0)
            this.idleWaiters.splice(0).forEach((w) => w());
        });
    }
    if (this.queue.length > 0 && !this.timer && this.inFlight < this.config.batch.concurrency) {
      this.timer = setTimeout(() => this.pump(), this.config.batch.flushMs);
    }
  }

  /** Takes submissions off the queue up to maxPoints (always at least one). */
  private take(): Submission[] {
    let points = 0;
    let n = 0;
    while (n < this.queue.length) {
      const size = this.queue[n]!.points.length;
      if (n > 0 && points + size > this.config.batch.maxPoints) break;
      points += size;
      n++;
    }
    const batch = this.queue.slice(0, n);
    this.queue = this.queue.slice(n);
    this.queuedPoints -= points;
    this.metrics.setQueuedPoints(this.queuedPoints);
    return batch;
  }

  private async writeBatch(batch: Submission[]): Promise<void> {
    const points = batch.flatMap((s) => s.points);
    const ok = await this.writeWithRetry(points);
    if (ok === 'stored') {
      for (const s of batch) s.stored();
      return;
    }
    if (ok === 'closed') return;
    // Refused: isolate the message(s) InfluxDB will not take.
    for (const s of batch) {
      const single = await this.writeWithRetry(s.points);
      if (single === 'closed') return;
      if (single === 'stored') {
        s.stored();
        continue;
      }
      this.metrics.rejected('storage_rejected');
      const deadLetter = rejectPoint({
        ts: uniqueNowMs(),
        reason: 'storage_rejected',
        topic: s.topic,
        detail: single.message,
        ...(s.park ? { park: s.park } : {}),
      });
      const recorded = await this.writeWithRetry([deadLetter]);
      if (recorded === 'closed') return;
      if (recorded !== 'stored')
        this.logger.error(`dead letter for ${s.topic} refused too: ${recorded.message}`);
      s.stored();
    }
  }

  /** Writes until stored, refused (returns the error) or closed; retriable failures back off. */
  private async writeWithRetry(
    points: readonly Point[],
  ): Promise<'stored' | 'closed' | InfluxWriteError> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) return 'closed';
      const started = performance.now();
      try {
        await this.store.write(points);
        this.metrics.written(points.length, performance.now() - started);
        if (attempt > 0) this.logger.log(`InfluxDB write succeeded after ${attempt} retries`);
        return 'stored';
      } catch (error) {
        const e =
          error instanceof InfluxWriteError ? error : new InfluxWriteError(String(error), true);
        if (!e.retriable) {
          this.metrics.writeFailed('refused');
          return e;
        }
        this.metrics.writeFailed('retriable');
        if (attempt === 0 || attempt % 10 === 0)
          this.logger.warn(
            `InfluxDB write failed (attempt ${attempt + 1}), retrying: ${e.message}`,
          );
        if (e.statusCode === 404 && this.config.influx.createDatabase)
          await this.store.ensureDatabase().catch(() => undefined);
        const backoff = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(attempt, 10));
        await new Promise((r) => setTimeout(r, backoff / 2 + Math.random() * (backoff / 2)));
      }
    }
  }
}
