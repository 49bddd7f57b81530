import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Point } from '@influxdata/influxdb-client';
import { toLineProtocol } from '@parkpulse/influx';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { DeadLetterPublisher } from '../dead-letters/dead-letter.publisher.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import { SpoolService } from '../spool/spool.service.js';
import {
  InfluxWriter,
  backoffMs,
  type Rejection,
  type WriteGroup,
} from './influx-writer.service.js';

/** The points of one MQTT message, and what to do once they are stored. */
export interface Submission {
  /** Points, or lines of line protocol at ms precision already (telemetryLines). */
  readonly points: readonly (Point | string)[];
  /**
   * Called exactly once when the points are safe, before any `stored` of the same write: what
   * must be recorded before the message is acknowledged (the delivery ledger's entry).
   */
  readonly recorded?: () => void;
  /** Called exactly once, after InfluxDB accepted the points (or their dead letter), or the spool has them. */
  readonly stored: () => void;
  /** For the dead letter when InfluxDB refuses this message's points. */
  readonly topic: string;
  readonly park?: string;
  readonly receivedAt?: number;
  readonly payload?: Buffer;
}

/**
 * Groups the points of many messages into one InfluxDB write, with at most `concurrency` writes
 * in flight — group commit: when a write slot is free, everything submitted during the current
 * event-loop turn (a whole batch from the broker) leaves at once, up to `maxPoints`; while every
 * slot is busy, submissions gather into the next write. Low latency at low load, large writes
 * under load, and no timer to wait for. A message is reported stored only
 * once its points are safe:
 * - written to InfluxDB (a message InfluxDB refuses, even alone, becomes a `storage_rejected`
 *   dead letter: see InfluxWriter);
 * - or, once InfluxDB has been failing for SPOOL_AFTER_MS (at once while shutting down), appended
 *   and synced to the disk spool, which the SpoolReplayer writes to InfluxDB when it is back.
 *   Meanwhile new batches go straight to the spool, and the replayer's attempts tell when
 *   InfluxDB is back.
 * Otherwise the batch is retried with exponential back-off and jitter, forever: nothing is
 * acknowledged meanwhile, so the broker keeps the messages and the consumer's pending limit stops
 * reading (back-pressure, never a drop). That is also what a full spool leads to.
 */
@Injectable()
export class BatchWriter {
  private readonly logger = new Logger('BatchWriter');
  private queue: Submission[] = [];
  private queuedPoints = 0;
  private inFlight = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private readonly idleWaiters: (() => void)[] = [];
  private closed = false;
  private draining = false;
  /** Ends the back-off of batches waiting to retry: drain() wants them in the spool now. */
  private readonly wakers = new Set<() => void>();
  /** Run once per stored write, between its `recorded` and its `stored` calls. */
  private readonly beforeAckHooks: (() => void)[] = [];

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly influx: InfluxWriter,
    private readonly spool: SpoolService,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly metrics: IngestMetrics,
  ) {}

  submit(submission: Submission): void {
    this.queue.push(submission);
    this.queuedPoints += submission.points.length;
    this.metrics.setQueuedPoints(this.queuedPoints);
    this.scheduled ??= setImmediate(() => this.pump());
  }

  /**
   * `hook` runs once per stored write after every message's `recorded` and before any is
   * acknowledged: one journal write per batch rather than one per message.
   */
  beforeAcks(hook: () => void): void {
    this.beforeAckHooks.push(hook);
  }

  /**
   * Resolves when every submitted message has been stored (used by graceful shutdown). From now
   * on a batch InfluxDB fails goes to the spool without waiting for SPOOL_AFTER_MS.
   */
  drain(): Promise<void> {
    this.draining = true;
    for (const wake of this.wakers) wake();
    this.pump();
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops retrying (shutdown deadline passed): unstored messages stay unacknowledged. */
  close(): void {
    this.closed = true;
    if (this.scheduled) clearImmediate(this.scheduled);
  }

  private pump(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
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
    const groups: WriteGroup[] = batch.map((s) => ({
      lines: toLineProtocol(s.points),
      topic: s.topic,
      ...(s.park !== undefined ? { park: s.park } : {}),
      ...(s.receivedAt !== undefined ? { receivedAt: s.receivedAt } : {}),
      ...(s.payload !== undefined ? { payload: s.payload } : {}),
    }));
    const rejected = await this.store(groups);
    if (rejected === 'closed') return;
    for (const s of batch) s.recorded?.();
    for (const hook of this.beforeAckHooks) hook();
    for (const s of batch) s.stored();
    for (const { group, detail } of rejected)
      this.deadLetters.publish({
        reason: 'storage_rejected',
        detail,
        topic: group.topic,
        receivedAt: group.receivedAt ?? Date.now(),
        ...(group.payload ? { payload: group.payload } : {}),
      });
  }

  /** InfluxDB or the spool, until one of them has the batch (or the writer is closed). */
  private async store(groups: readonly WriteGroup[]): Promise<readonly Rejection[] | 'closed'> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) return 'closed';
      let spoolRefused = false;
      if (this.spoolNow()) {
        // The spool does not keep payloads (see SpooledGroup).
        const spooled = await this.spool.append(
          groups.map(({ payload: _payload, ...group }) => group),
        );
        if (spooled === 'appended') return [];
        spoolRefused = true; // full, or the disk failed: InfluxDB may be back, try it meanwhile
      }
      const outcome = await this.influx.write(groups, () => this.closed);
      if (outcome.kind === 'closed') return 'closed';
      if (outcome.kind === 'stored') return outcome.rejected;
      if (!spoolRefused && this.spoolNow()) continue; // the outage just became long enough
      await this.backOff(attempt);
    }
  }

  private backOff(attempt: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, backoffMs(attempt));
      this.wakers.add(done);
    });
  }

  /** Whether batches go to the spool rather than to InfluxDB now. */
  private spoolNow(): boolean {
    const since = this.influx.failingSince;
    return (
      this.spool.enabled &&
      since !== undefined &&
      (this.draining || Date.now() - since >= this.config.spool.afterMs)
    );
  }
}
