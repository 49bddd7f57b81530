import { Inject, Injectable, Logger } from '@nestjs/common';
import { InfluxWriteError, rejectPoint, toLineProtocol, uniqueNowMs } from '@parkpulse/influx';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import type { SpooledGroup } from '../spool/spool-record.js';
import { InfluxStoreProvider } from './influx-store.provider.js';

/** The points of one message on their way to InfluxDB (from the live stream or the spool). */
export interface WriteGroup extends SpooledGroup {
  /** The message's payload, for its dead letter; absent for groups replayed from the spool. */
  readonly payload?: Buffer;
}

/** A group InfluxDB refused even on its own; its `storage_rejected` point is stored. */
export interface Rejection {
  readonly group: WriteGroup;
  readonly detail: string;
}

export type WriteOutcome =
  | { readonly kind: 'stored'; readonly rejected: readonly Rejection[] }
  | { readonly kind: 'retry' }
  | { readonly kind: 'closed' };

const MAX_BACKOFF_MS = 10_000;

/**
 * One InfluxDB write of several messages' points, for the batch writer and the spool replayer:
 * - `stored`: InfluxDB took them — where it refused the data (HTTP 400/413, e.g. a field-type
 *   conflict), each message was written alone, and one still refused got a `storage_rejected`
 *   point instead (listed in `rejected`), so one bad message cannot sink its neighbours;
 * - `retry`: InfluxDB is unreachable or failing; the caller decides (back off, or the spool).
 * Also tracks since when InfluxDB has been failing, which decides when batches go to the spool.
 */
@Injectable()
export class InfluxWriter {
  private readonly logger = new Logger('InfluxDB');
  private failingSinceMs: number | undefined;

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly store: InfluxStoreProvider,
    private readonly metrics: IngestMetrics,
  ) {}

  /** When the current run of failed writes began; undefined while InfluxDB takes writes. */
  get failingSince(): number | undefined {
    return this.failingSinceMs;
  }

  async write(groups: readonly WriteGroup[], isClosed: () => boolean): Promise<WriteOutcome> {
    const first = await this.attempt(groups.flatMap((g) => g.lines));
    if (first === 'stored') return { kind: 'stored', rejected: [] };
    if (first.retriable) return { kind: 'retry' };
    const rejected: Rejection[] = [];
    for (const group of groups) {
      // Alone: InfluxDB 1.x stores the valid lines of a refused write, so this mostly repeats them.
      const single = groups.length === 1 ? first : await this.withRetry(group.lines, isClosed);
      if (single === 'closed') return { kind: 'closed' };
      if (single === 'stored') continue;
      this.metrics.rejected('storage_rejected');
      const deadLetter = rejectPoint({
        ts: uniqueNowMs(),
        reason: 'storage_rejected',
        topic: group.topic,
        detail: single.message,
        ...(group.park ? { park: group.park } : {}),
      });
      const recorded = await this.withRetry(toLineProtocol([deadLetter]), isClosed);
      if (recorded === 'closed') return { kind: 'closed' };
      if (recorded !== 'stored')
        this.logger.error(`dead letter for ${group.topic} refused too: ${recorded.message}`);
      rejected.push({ group, detail: single.message });
    }
    return { kind: 'stored', rejected };
  }

  /** Writes until stored, refused (returns the error) or closed; retriable failures back off. */
  private async withRetry(
    lines: readonly string[],
    isClosed: () => boolean,
  ): Promise<'stored' | 'closed' | InfluxWriteError> {
    for (let attempt = 0; ; attempt++) {
      if (isClosed()) return 'closed';
      const result = await this.attempt(lines);
      if (result === 'stored' || !result.retriable) return result;
      await sleep(backoffMs(attempt));
    }
  }

  /**
   * One request; keeps the figures and the failing-since clock. A request unanswered after
   * INFLUX_WRITE_DEADLINE_MS makes InfluxDB count as failing, from when the request began: a
   * hung InfluxDB (accepting connections, answering nothing) is a down one. The answer is still
   * awaited — a slow InfluxDB that answers is healthy again — but only until InfluxDB has been
   * failing for SPOOL_AFTER_MS: then the attempt fails, so that the batch goes to the spool on
   * time instead of waiting out INFLUX_TIMEOUT_MS again and again. The abandoned request ends
   * within that timeout; should it still succeed, its points are stored twice (spool replay),
   * which stores them once.
   */
  private async attempt(lines: readonly string[]): Promise<'stored' | InfluxWriteError> {
    const started = performance.now();
    const startedAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const deadlineMs = this.config.influx.writeDeadlineMs;
    try {
      const write = this.store.writeLines(lines);
      await Promise.race([
        write,
        new Promise<never>((_, reject) => {
          const giveUp = () => {
            // Failing long enough for the spool to take over: stop waiting for this answer.
            const since = this.failingSinceMs ?? startedAt;
            const waitMs = since + this.config.spool.afterMs - Date.now();
            if (waitMs > 0) return void (timer = setTimeout(giveUp, waitMs));
            write.catch(() => undefined); // it ends within INFLUX_TIMEOUT_MS, unawaited
            reject(
              new InfluxWriteError(
                `no answer within ${Date.now() - startedAt} ms (INFLUX_WRITE_DEADLINE_MS ${deadlineMs}, then SPOOL_AFTER_MS)`,
                true,
              ),
            );
          };
          timer = setTimeout(() => {
            // Unanswered this long: InfluxDB counts as failing from the request's start (a slow
            // InfluxDB that answers after all is healthy again at once).
            if (this.failingSinceMs === undefined) {
              this.failingSinceMs = startedAt;
              this.logger.warn(
                `InfluxDB write unanswered after ${deadlineMs} ms: counted as failing`,
              );
            }
            giveUp();
          }, deadlineMs);
        }),
      ]);
      this.metrics.written(lines.length, performance.now() - started);
      this.healthy();
      return 'stored';
    } catch (error) {
      const e =
        error instanceof InfluxWriteError ? error : new InfluxWriteError(String(error), true);
      if (!e.retriable) {
        this.metrics.writeFailed('refused');
        this.healthy(); // it answered: it is up, the data is the problem
        return e;
      }
      this.metrics.writeFailed('retriable');
      if (this.failingSinceMs === undefined) {
        this.failingSinceMs = startedAt;
        this.logger.warn(`InfluxDB write failed, retrying: ${e.message}`);
      }
      if (e.statusCode === 404 && this.config.influx.createDatabase)
        await this.store.ensureDatabase().catch(() => undefined);
      return e;
    } finally {
      clearTimeout(timer);
    }
  }

  private healthy(): void {
    if (this.failingSinceMs === undefined) return;
    this.logger.log(
      `InfluxDB takes writes again (after ${Math.round((Date.now() - this.failingSinceMs) / 1000)} s of failures)`,
    );
    this.failingSinceMs = undefined;
  }
}

/** Exponential back-off with jitter: 50–100 % of min(10 s, 100 ms × 2^attempt). */
export function backoffMs(attempt: number, maxMs = MAX_BACKOFF_MS): number {
  const ceiling = Math.min(maxMs, 100 * 2 ** Math.min(attempt, 10));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
