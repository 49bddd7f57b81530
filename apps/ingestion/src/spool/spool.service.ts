import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import {
  Spool,
  isNoSpaceError,
  type SegmentDamage,
  type SpoolEvent,
  type SpoolSegment,
} from '@parkpulse/spool';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import { decodeSpoolRecord, encodeSpoolRecords, type SpooledGroup } from './spool-record.js';

/** A segment handed out for replay, its records decoded (unreadable ones left out, and logged). */
export interface ReplaySegment {
  readonly segment: SpoolSegment;
  readonly records: readonly (readonly SpooledGroup[])[];
}

/**
 * The ingestion's disk spool (`@parkpulse/spool` in SPOOL_DIR, bounded by SPOOL_MAX_BYTES): batches
 * go here while InfluxDB is down, and their messages are acknowledged once the append is synced
 * to disk. Keeps the spool figures current and logs what cannot be read back.
 */
@Injectable()
export class SpoolService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Spool');
  private spool: Spool | undefined;
  private full = false;
  /** Between the first append into an empty spool and the removal that empties it again. */
  private holding = false;

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly metrics: IngestMetrics,
  ) {}

  /** False when SPOOL_MAX_BYTES is 0: batches then wait for InfluxDB, unacknowledged. */
  get enabled(): boolean {
    return this.config.spool.maxBytes > 0;
  }

  get empty(): boolean {
    return this.spool?.empty ?? true;
  }

  /**
   * True after an append was refused for lack of room (the byte budget, or the disk: ENOSPC),
   * until one is taken again or replay frees space.
   */
  get isFull(): boolean {
    return this.full;
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) {
      this.logger.log(
        'disk spool off (SPOOL_MAX_BYTES=0): while InfluxDB is down, messages wait unacknowledged',
      );
      return;
    }
    // Not caught: a spool that cannot be opened (locked by another instance, no permission) must
    // stop the start, or the ingestion would promise durability it cannot give.
    this.spool = await Spool.open({
      dir: this.config.spool.dir,
      maxBytes: this.config.spool.maxBytes,
    });
    this.spool.watch((event) => this.onChange(event));
    this.refresh();
    if (this.spool.segmentCount > 0)
      this.logger.log(
        `disk spool ${this.config.spool.dir} holds ${this.spool.bytes} bytes in ${this.spool.segmentCount} segments from an earlier run: replaying them`,
      );
    else
      this.logger.log(
        `disk spool ${this.config.spool.dir} (up to ${this.config.spool.maxBytes} bytes), used after InfluxDB failed for ${this.config.spool.afterMs} ms`,
      );
  }

  async onApplicationShutdown(): Promise<void> {
    // After every beforeApplicationShutdown hook, so after the batch writer's last append.
    await this.spool?.close();
  }

  /**
   * Appends the groups of one batch, as records of at most a quarter of a segment (so that a
   * small budget is used, not filled by a few large records): `appended` once all are synced to
   * disk (the messages may be acknowledged), `full` when there is no room — the budget, or the
   * disk itself (ENOSPC, a short write) — `failed` when the disk refused them otherwise (nothing
   * acknowledged; logged). After a partial append (full midway) the records written are replayed
   * and the batch is appended again later: replaying a point twice stores it once.
   */
  async append(groups: readonly SpooledGroup[]): Promise<'appended' | 'full' | 'failed'> {
    if (!this.spool) return 'full';
    const spool = this.spool;
    const records = encodeSpoolRecords(groups, Math.floor(spool.segmentBytes / 4));
    const total = records.reduce((n, r) => n + r.length, 0);
    try {
      const results = spool.fits(total)
        ? await Promise.all(records.map((record) => spool.append(record)))
        : ['full' as const];
      if (results.includes('full')) {
        if (!this.full)
          this.logger.warn(
            `disk spool full (${spool.bytes} of ${this.config.spool.maxBytes} bytes): acknowledging nothing more until InfluxDB takes some back`,
          );
        this.setFull(true);
        return 'full';
      }
      this.setFull(false);
      this.metrics.spooled(groups.reduce((n, g) => n + g.lines.length, 0));
      if (!this.holding) {
        this.holding = true;
        this.logger.warn(
          'InfluxDB is failing: batches go to the disk spool (and are acknowledged) until it is back',
        );
      }
      return 'appended';
    } catch (error) {
      if (isNoSpaceError(error)) {
        if (!this.full)
          this.logger.error(
            `disk spool full: the disk has no room (${(error as Error).message}), at ${spool.bytes} of ${this.config.spool.maxBytes} bytes: acknowledging nothing more until there is room or InfluxDB is back`,
          );
        this.setFull(true);
        return 'full';
      }
      this.logger.error(`disk spool append failed: ${(error as Error).message}`);
      return 'failed';
    }
  }

  /** The oldest segment not being replayed, decoded; undefined when the spool is empty. */
  async oldest(): Promise<ReplaySegment | undefined> {
    const segment = await this.spool?.oldest();
    if (!segment) return undefined;
    if (segment.damage) {
      this.metrics.spoolDamage.inc({ kind: segment.damage.kind });
      this.logger.warn(
        `spool ${segment.file}: ${describeDamage(segment.damage)}; the ${segment.records.length} records before it are replayed`,
      );
    }
    const records: SpooledGroup[][] = [];
    segment.records.forEach((data, i) => {
      const decoded = decodeSpoolRecord(data);
      if (decoded instanceof Error) {
        this.metrics.spoolDamage.inc({ kind: 'undecodable' });
        this.logger.warn(`spool ${segment.file}: record ${i} skipped: ${decoded.message}`);
      } else records.push(decoded);
    });
    return { segment, records };
  }

  /** Deletes a replayed segment. */
  async remove(replayed: ReplaySegment): Promise<void> {
    await this.spool?.remove(replayed.segment);
  }

  /** Gives an unfinished segment back (shutdown): the next start replays it from the beginning. */
  release(replayed: ReplaySegment): void {
    this.spool?.release(replayed.segment);
  }

  watch(listener: (event: SpoolEvent) => void): () => void {
    return this.spool?.watch(listener) ?? (() => undefined);
  }

  private onChange(event: SpoolEvent): void {
    this.refresh();
    if (event === 'removed' && this.spool?.empty) this.holding = false;
    if (event === 'removed' && this.full && this.spool?.fits(0)) this.setFull(false);
  }

  private refresh(): void {
    if (this.spool) this.metrics.setSpool(this.spool.bytes, this.spool.segmentCount);
  }

  private setFull(full: boolean): void {
    if (full === this.full) return;
    this.full = full;
    this.metrics.spoolFull.set(full ? 1 : 0);
  }
}

function describeDamage(damage: SegmentDamage): string {
  const what = {
    truncated:
      'the last record is cut short (the process stopped while appending it, before it was acknowledged)',
    checksum: 'a record fails its checksum (a torn write or disk damage)',
    header: 'the file does not start like a spool segment',
  }[damage.kind];
  return `${what}: ${damage.bytesSkipped} bytes from offset ${damage.offset} skipped`;
}
