import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { DeadLetterPublisher } from '../dead-letters/dead-letter.publisher.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import type { SpooledGroup } from '../spool/spool-record.js';
import { SpoolService, type ReplaySegment } from '../spool/spool.service.js';
import { InfluxWriter, backoffMs } from './influx-writer.service.js';

/** Replay attempts back off up to this: it is also how soon a recovered InfluxDB is noticed. */
const MAX_REPLAY_BACKOFF_MS = 5000;
/** On shutdown, how long to wait for the replay write under way. */
const SHUTDOWN_WAIT_MS = 2000;

/**
 * Writes the disk spool to InfluxDB, oldest segment first, one write (up to BATCH_MAX_POINTS
 * points) at a time, beside the live traffic; a segment is deleted once all of its points were
 * accepted. Starts with whatever an earlier run left. While InfluxDB is down its attempts, backing
 * off, are what notice that it is back (the batch writer spools without trying InfluxDB then).
 *
 * Order: live batches go to InfluxDB as soon as it takes writes, while the backlog is replayed
 * — fresh data first for the dashboards. Order does not matter to what is stored: a point is
 * identified by measurement, tags and time, and writing one twice (a segment replayed again
 * after a crash, a message both spooled and redelivered) stores it once.
 */
@Injectable()
export class SpoolReplayer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SpoolReplayer');
  private stopping = false;
  private running: Promise<void> | undefined;
  /** Ends the current pause early: on shutdown, and on an append while idle. */
  private wake: (() => void) | undefined;
  private idling = false;
  private unwatch: () => void = () => undefined;
  private episode: { started: number; points: number } | undefined;
  private readonly replayedListeners = new Set<(groups: readonly SpooledGroup[]) => void>();

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly spool: SpoolService,
    private readonly influx: InfluxWriter,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly metrics: IngestMetrics,
  ) {}

  /**
   * Called with the groups of every replay write InfluxDB took (refused groups left out): the
   * delivery ledger learns from it what reached storage. Returns the unsubscribe function.
   */
  onReplayed(listener: (groups: readonly SpooledGroup[]) => void): () => void {
    this.replayedListeners.add(listener);
    return () => this.replayedListeners.delete(listener);
  }

  onApplicationBootstrap(): void {
    if (!this.spool.enabled) return;
    this.unwatch = this.spool.watch((event) => {
      if (event === 'appended' && this.idling) this.wake?.();
    });
    this.running = this.run().catch((error: unknown) =>
      this.logger.error(`replay stopped: ${String(error)}`),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.unwatch();
    this.wake?.();
    // Not for long: the write under way may hang up to INFLUX_TIMEOUT_MS, and the shutdown's time
    // belongs to the live messages. An unfinished segment stays on disk and is replayed next time.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.running,
      new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let replay: ReplaySegment | undefined;
      try {
        replay = await this.spool.oldest();
      } catch (error) {
        this.logger.error(`cannot read the spool: ${(error as Error).message}`);
        await this.pause(backoffMs(failures++, 30_000));
        continue;
      }
      failures = 0;
      if (!replay) {
        this.endEpisode();
        await this.idle();
        continue;
      }
      this.episode ??= { started: Date.now(), points: 0 };
      if (!(await this.replay(replay))) {
        this.spool.release(replay); // shutting down: replayed again from its start next time
        return;
      }
      try {
        await this.spool.remove(replay);
      } catch (error) {
        this.logger.error(
          `cannot delete replayed ${replay.segment.file}: ${(error as Error).message}`,
        );
        await this.pause(1000);
      }
    }
  }

  /** Writes every record of the segment; false when interrupted by shutdown. */
  private async replay(replay: ReplaySegment): Promise<boolean> {
    let chunk: SpooledGroup[] = [];
    let lines = 0;
    for (const record of replay.records) {
      for (const group of record) {
        chunk.push(group);
        lines += group.lines.length;
        if (lines >= this.config.batch.maxPoints) {
          if (!(await this.write(chunk))) return false;
          chunk = [];
          lines = 0;
        }
      }
    }
    return chunk.length === 0 || (await this.write(chunk));
  }

  private async write(groups: SpooledGroup[]): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopping) return false;
      const outcome = await this.influx.write(groups, () => this.stopping);
      if (outcome.kind === 'closed') return false;
      if (outcome.kind === 'stored') {
        const refused = new Set(outcome.rejected.map((r) => r.group));
        const points = groups.reduce((n, g) => n + (refused.has(g) ? 0 : g.lines.length), 0);
        this.metrics.replayed(points);
        const taken = refused.size > 0 ? groups.filter((g) => !refused.has(g)) : groups;
        for (const listener of this.replayedListeners) listener(taken);
        if (this.episode) this.episode.points += points;
        for (const { group, detail } of outcome.rejected)
          this.deadLetters.publish({
            reason: 'storage_rejected',
            detail,
            topic: group.topic,
            receivedAt: group.receivedAt ?? Date.now(),
          });
        return true;
      }
      await this.pause(backoffMs(attempt, MAX_REPLAY_BACKOFF_MS));
    }
  }

  private endEpisode(): void {
    if (!this.episode) return;
    this.logger.log(
      `disk spool replayed: ${this.episode.points} points in ${Math.round((Date.now() - this.episode.started) / 1000)} s; it is empty`,
    );
    this.episode = undefined;
  }

  /** Until something is appended (or a second passes: a cheap guard against a missed wake-up). */
  private async idle(): Promise<void> {
    this.idling = true;
    try {
      await this.pause(1000);
    } finally {
      this.idling = false;
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
