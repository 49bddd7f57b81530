import { join } from 'node:path';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ledgerPoint, MEASUREMENT, readSeqAndTime } from '@parkpulse/influx';
import {
  DeliveryLedger,
  formatTopic,
  parseTopic,
  type ParsedTopic,
  type Sample,
} from '@parkpulse/telemetry';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import type { SpooledGroup } from '../spool/spool-record.js';
import { BatchWriter } from '../storage/batch-writer.service.js';
import { SpoolReplayer } from '../storage/spool-replayer.service.js';
import { LedgerStore, type JournalEntry } from './ledger-store.js';

/** The ledger's state is compacted at least this often, also when its figures are not written. */
const MAX_COMPACT_INTERVAL_MS = 10_000;

/** Samples of one message after the clock check. */
export interface Admission {
  /** To be stored. */
  readonly admitted: readonly Sample[];
  /** Refused: a newer `seq` at a time the device's earlier samples cover (clock regression). */
  readonly regressed: readonly Sample[];
  /** Why, in words, when some were refused (for the dead letter). */
  readonly detail?: string;
}

/**
 * Completeness per device: every stored telemetry sample goes into the delivery ledger (gaps,
 * duplicates, late arrivals, counter resets from `seq`; lag from the device's `ts`), and every
 * `statsIntervalMs` the figures of the devices that sent something are written as
 * `device_ledger` points (cumulative since `since_ms`, and per interval).
 *
 * Right across restarts: the ledger's state is kept in SPOOL_DIR (see LedgerStore) — each stored
 * message is journaled before it is acknowledged — and taken over by the next process, so that a
 * crash shows no false gap, reset or duplicate. Points replayed from the spool are confirmed to
 * the ledger (they fill what it did not know, e.g. after a lost state file).
 *
 * Before storing, `admit` refuses the samples of a clock regression (see DeliveryLedger.admit).
 */
@Injectable()
export class DeliveryLedgerService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('DeliveryLedger');
  private readonly ledger = new DeliveryLedger();
  private readonly store: LedgerStore;
  private timer: NodeJS.Timeout | undefined;
  private compactTimer: NodeJS.Timeout | undefined;
  /** False after a journal or snapshot write failed, until a snapshot is written again. */
  private persisting = false;
  private unwatch: () => void = () => undefined;
  /** Journal entries not written yet: written together before the write's messages are acked. */
  private pending: JournalEntry[] = [];
  private syncScheduled: NodeJS.Immediate | undefined;

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly writer: BatchWriter,
    private readonly replayer: SpoolReplayer,
  ) {
    this.store = new LedgerStore(join(config.spool.dir, 'ledger'));
  }

  onModuleInit(): void {
    this.loadState();
    this.unwatch = this.replayer.onReplayed((groups) => this.replayed(groups));
    this.writer.beforeAcks(() => this.sync());
    if (this.config.statsIntervalMs > 0)
      this.timer = setInterval(() => this.flush(), this.config.statsIntervalMs).unref();
    if (!(
      this.config.statsIntervalMs > 0 && this.config.statsIntervalMs <= MAX_COMPACT_INTERVAL_MS
    ))
      this.compactTimer = setInterval(() => this.compact(), MAX_COMPACT_INTERVAL_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    clearInterval(this.compactTimer);
    this.unwatch();
    this.compact();
    this.store.close();
  }

  /** The clock check of one message's samples, before they are stored. */
  admit(topic: ParsedTopic, samples: readonly Sample[]): Admission {
    const admitted: Sample[] = [];
    const regressed: Sample[] = [];
    for (const s of samples) (this.ledger.admit(topic, s.seq, s.ts) ? admitted : regressed).push(s);
    if (regressed.length === 0) return { admitted, regressed };
    this.journal('x', topic, regressed);
    const newest = this.ledger.newest(topic);
    const seqs = regressed.map((s) => s.seq);
    const iso = (ts: number) => new Date(ts).toISOString();
    const what =
      regressed.length === 1
        ? `seq ${seqs[0]} at ${iso(regressed[0]!.ts)} is`
        : `${regressed.length} samples (seq ${seqs[0]}…${seqs.at(-1)}, from ${iso(regressed[0]!.ts)}) are`;
    const detail = `${what} inside the time the device's earlier samples cover (its newest: seq ${newest?.seq} at ${iso(newest?.ts ?? 0)}): the device clock went back; not stored`;
    return { admitted, regressed, detail };
  }

  /**
   * The samples of one message were stored. Journaled by the next `sync`, which the BatchWriter
   * runs before it acknowledges the write's messages (one disk write per batch).
   */
  stored(topic: ParsedTopic, samples: readonly Sample[], storedAt = Date.now()): void {
    for (const s of samples) this.ledger.record(topic, s.seq, s.ts, storedAt);
    this.journal('r', topic, samples, storedAt);
  }

  /** Writes the figures of the devices active since the last flush, then compacts the state. */
  flush(): void {
    const now = Date.now();
    const points = this.ledger.flush().map((figures) => ledgerPoint(figures, now));
    this.compact();
    if (points.length === 0) return;
    this.writer.submit({ points, stored: () => undefined, topic: MEASUREMENT.ledger });
  }

  /** Telemetry points the spool replayer got into InfluxDB. */
  private replayed(groups: readonly SpooledGroup[]): void {
    for (const group of groups) {
      const topic = parseTopic(group.topic);
      if (!topic.ok || topic.value.channel !== 'telemetry') continue;
      const samples: Sample[] = [];
      for (const line of group.lines) {
        const read = readSeqAndTime(line);
        // Dropped-field records travel in the same group: only the asset type's own lines count.
        if (read?.measurement !== topic.value.assetType || read.seq === undefined) continue;
        if (read.ts === undefined) continue;
        samples.push({ seq: read.seq, ts: read.ts, fields: {} });
      }
      if (samples.length === 0) continue;
      for (const s of samples) this.ledger.confirm(topic.value, s.seq!, s.ts);
      this.journal('c', topic.value, samples);
    }
  }

  private loadState(): void {
    let loaded: ReturnType<LedgerStore['load']>;
    try {
      loaded = this.store.load();
    } catch (error) {
      this.logger.error(
        `cannot read the ledger's state: ${(error as Error).message}; its figures count from now`,
      );
      return;
    }
    for (const problem of loaded.problems) this.logger.warn(`ledger state: ${problem}`);
    const skipped = loaded.snapshot ? this.ledger.restore(loaded.snapshot) : [];
    if (skipped.length > 0)
      this.logger.warn(`ledger state: ${skipped.length} devices left out (topic no longer valid)`);
    for (const entry of loaded.journal) this.apply(entry);
    this.ledger.flush(); // what the earlier process did is not this interval's
    if (this.ledger.size > 0)
      this.logger.log(
        `delivery ledger carries on from the state in ${this.config.spool.dir} (${this.ledger.size} devices)`,
      );
    this.compact();
  }

  private apply(entry: JournalEntry): void {
    const topic = parseTopic(entry.t);
    if (!topic.ok) return;
    for (const [seq, ts] of entry.s) {
      const s = seq ?? undefined;
      if (entry.k === 'r') {
        this.ledger.cover(topic.value, s, ts);
        this.ledger.record(topic.value, s, ts, entry.at ?? ts);
      } else if (entry.k === 'c' && s !== undefined) this.ledger.confirm(topic.value, s, ts);
      else if (entry.k === 'x') this.ledger.admit(topic.value, s, ts);
    }
  }

  private journal(
    k: JournalEntry['k'],
    topic: ParsedTopic,
    samples: readonly Sample[],
    at?: number,
  ): void {
    if (!this.persisting) return;
    this.pending.push({
      k,
      t: formatTopic(topic),
      s: samples.map((s) => [s.seq ?? null, s.ts] as const),
      ...(at !== undefined ? { at } : {}),
    });
    // Entries not followed by a write's acknowledgements (clock refusals, replays) go at the
    // end of this event-loop turn.
    this.syncScheduled ??= setImmediate(() => this.sync());
  }

  /** Writes the journal entries gathered since the last sync, in one write. */
  sync(): void {
    if (this.syncScheduled) clearImmediate(this.syncScheduled);
    this.syncScheduled = undefined;
    const entries = this.pending;
    if (entries.length === 0) return;
    this.pending = [];
    if (!this.persisting) return;
    try {
      this.store.appendAll(entries);
    } catch (error) {
      this.persisting = false;
      this.logger.error(
        `ledger journal write failed (${(error as Error).message}): a crash before the next snapshot would lose the ledger's latest figures`,
      );
    }
  }

  private compact(): void {
    // The snapshot holds what the unwritten entries say: they must not follow it into the new journal.
    this.pending = [];
    try {
      this.store.compact(this.ledger.snapshot());
      this.persisting = true;
    } catch (error) {
      if (this.persisting)
        this.logger.error(`ledger snapshot write failed: ${(error as Error).message}`);
      this.persisting = false;
    }
  }
}
