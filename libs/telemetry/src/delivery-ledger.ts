import type { ParsedTopic } from './topic.js';

/** One device's delivery figures since the ledger first saw it (and its lag over the last interval). */
export interface LedgerFigures {
  readonly topic: ParsedTopic;
  /** Samples stored (duplicates included). */
  readonly received: number;
  /** Samples whose `seq` had been stored already (redeliveries, repeats). */
  readonly duplicates: number;
  /** Gaps filled afterwards (a sample that arrived after a later one). */
  readonly late: number;
  /** The device restarted its counter (`seq` went back while its clock went forward). */
  readonly resets: number;
  /** Sequence numbers skipped and still missing. */
  readonly missing: number;
  /** Sequence numbers the device has used since it was first seen (or since its last reset). */
  readonly expected: number;
  /** The highest `seq` of the current run (−1: the device sends none). */
  readonly lastSeq: number;
  /** (expected − missing) / expected. */
  readonly completeness: number;
  /** Device time → stored, over the interval (ms); absent when the interval had no samples. */
  readonly lagMs?: { readonly p50: number; readonly p99: number; readonly max: number };
}

/** Beyond this many open gaps a device's counter is taken to have jumped (a reset). */
const MAX_OPEN_GAPS = 100_000;

class DeviceLedger {
  received = 0;
  duplicates = 0;
  late = 0;
  resets = 0;
  /** First `seq` of the current counter run, and the highest seen. */
  first = -1;
  highest = -1;
  /** Device time of the highest `seq`. */
  highestTs = 0;
  readonly missing = new Set<number>();
  lags: number[] = [];
  active = false;

  constructor(public topic: ParsedTopic) {}

  record(seq: number, ts: number, lagMs: number): void {
    this.received++;
    this.active = true;
    this.lags.push(lagMs);
    if (this.highest < 0) return this.restart(seq, ts);
    if (seq > this.highest) {
      if (seq - this.highest - 1 > MAX_OPEN_GAPS) {
        this.resets++;
        return this.restart(seq, ts);
      }
      for (let s = this.highest + 1; s < seq; s++) this.missing.add(s);
      this.highest = seq;
      this.highestTs = ts;
      return;
    }
    if (this.missing.delete(seq)) {
      this.late++;
      return;
    }
    if (seq < this.first || (seq < this.highest && ts > this.highestTs)) {
      // The counter went back while the clock went forward: the device restarted counting.
      this.resets++;
      return this.restart(seq, ts);
    }
    this.duplicates++;
  }

  private restart(seq: number, ts: number): void {
    this.first = seq;
    this.highest = seq;
    this.highestTs = ts;
    this.missing.clear();
  }

  figures(): LedgerFigures {
    const expected = this.highest < 0 ? 0 : this.highest - this.first + 1;
    const lags = this.lags.sort((a, b) => a - b);
    const at = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? 0;
    return {
      topic: this.topic,
      received: this.received,
      duplicates: this.duplicates,
      late: this.late,
      resets: this.resets,
      missing: this.missing.size,
      expected,
      lastSeq: this.highest,
      completeness: expected > 0 ? (expected - this.missing.size) / expected : 1,
      ...(lags.length > 0 ? { lagMs: { p50: at(0.5), p99: at(0.99), max: at(1) } } : {}),
    };
  }
}

/**
 * The delivery ledger: per device, from the `seq` of every stored sample, the gaps (skipped and
 * never filled), duplicates, late arrivals and counter resets, and the lag from the device's
 * timestamp to storage — so that completeness per device is a figure, not a hope. Samples without
 * `seq` count as received only. Pure bookkeeping; the caller stores the figures.
 *
 * The ledger starts empty: after an ingestion restart the first `seq` it sees from a device is its
 * new starting point (gaps before it are not counted).
 */
export class DeliveryLedger {
  private readonly devices = new Map<string, DeviceLedger>();

  /** A sample of `topic`'s device was stored at `storedAt` (ms). */
  record(topic: ParsedTopic, seq: number | undefined, ts: number, storedAt: number): void {
    const key = `${topic.park}/${topic.site}/${topic.deviceId}`;
    let device = this.devices.get(key);
    if (!device) this.devices.set(key, (device = new DeviceLedger(topic)));
    if (seq === undefined) {
      device.received++;
      device.active = true;
      device.lags.push(storedAt - ts);
      return;
    }
    device.record(seq, ts, storedAt - ts);
  }

  /** Figures of every device that stored samples since the last call. */
  flush(): LedgerFigures[] {
    const out: LedgerFigures[] = [];
    for (const device of this.devices.values()) {
      if (!device.active) continue;
      out.push(device.figures());
      device.active = false;
      device.lags = [];
    }
    return out;
  }

  get size(): number {
    return this.devices.size;
  }
}
