import { formatTopic, parseTopic, type ParsedTopic } from './topic.js';

/** What happened to one device over the last interval (between two flushes). */
export interface LedgerInterval {
  readonly received: number;
  readonly duplicates: number;
  readonly late: number;
  readonly resets: number;
  readonly clockRegressions: number;
}

/** One device's delivery figures since `since` (and over the last interval). */
export interface LedgerFigures {
  readonly topic: ParsedTopic;
  /** When the ledger began counting for this device (ms); kept across restarts when persisted. */
  readonly since: number;
  /** Samples stored (duplicates included). */
  readonly received: number;
  /** Samples whose `seq` had been stored already (redeliveries, repeats). */
  readonly duplicates: number;
  /** Samples that arrived after a later one: a gap filled, or a seq older than the run's start. */
  readonly late: number;
  /** The device restarted its counter (`seq` back to near zero while its clock went forward). */
  readonly resets: number;
  /** Samples refused because their `seq` was newer but their timestamp not after the newest. */
  readonly clockRegressions: number;
  /** Sequence numbers skipped and still missing (those refused for their clock are not). */
  readonly missing: number;
  /** Sequence numbers the device has used since it was first seen (or since its last reset). */
  readonly expected: number;
  /** The highest `seq` of the current run (−1: the device sends none). */
  readonly lastSeq: number;
  /** (expected − missing) / expected. */
  readonly completeness: number;
  /** Since the previous flush. */
  readonly interval: LedgerInterval;
  /** Device time → stored, over the interval (ms); absent when the interval had no samples. */
  readonly lagMs?: { readonly p50: number; readonly p99: number; readonly max: number };
}

/** Beyond this many open gaps a device's counter is taken to have jumped (a reset). */
const MAX_OPEN_GAPS = 100_000;
/** Spans of device time kept per device for the clock check. */
const MAX_SPANS = 16;
/**
 * A counter restart goes back to (near) zero: a seq going back to above this is an old sample
 * arriving late (a broker backlog interleaved with live traffic, a replay), never a reset.
 */
export const RESET_SEQ_MAX = 100;

/** A device's ledger as persisted (see {@link DeliveryLedger.snapshot}). */
export interface DeviceLedgerState {
  /** The device's telemetry topic (parsed again on restore, against the catalogue of the day). */
  readonly topic: string;
  readonly since: number;
  readonly received: number;
  readonly duplicates: number;
  readonly late: number;
  readonly resets: number;
  readonly clockRegressions: number;
  readonly first: number;
  readonly highest: number;
  readonly highestTs: number;
  /** Missing seqs as `[from, to]` ranges (inclusive). */
  readonly missing: readonly (readonly [number, number])[];
  /** Seqs refused for a clock regression, above the highest stored. */
  readonly refused?: readonly (readonly [number, number])[];
  /** Device time covered by the admitted samples, across counter runs (see admit). */
  readonly spans?: readonly (readonly [number, number])[];
}

export interface LedgerSnapshot {
  readonly v: 1;
  readonly devices: readonly DeviceLedgerState[];
}

const ZERO_INTERVAL: LedgerInterval = {
  received: 0,
  duplicates: 0,
  late: 0,
  resets: 0,
  clockRegressions: 0,
};

class DeviceLedger {
  received = 0;
  duplicates = 0;
  late = 0;
  resets = 0;
  clockRegressions = 0;
  /** First `seq` of the current counter run, and the highest seen. */
  first = -1;
  highest = -1;
  /** Device time of the highest `seq`. */
  highestTs = 0;
  /** The highest seq, and the newest time, let through {@link DeliveryLedger.admit}. */
  admittedSeq = -1;
  admittedTs = 0;
  /**
   * Device time covered by the admitted samples, across counter runs, as `[from, to]` spans
   * (at most MAX_SPANS: a device may upload an older backlog beside its live samples, and each
   * counter restart starts a stretch). A newer seq inside them could overwrite a stored sample.
   */
  spans: [number, number][] = [];
  /** The span that samples in order extend. */
  current = -1;
  readonly missing = new Set<number>();
  /** Seqs refused for their clock and not passed yet: when a later seq comes, not a gap. */
  readonly refused = new Set<number>();
  lags: number[] = [];
  active = false;
  /** Counters at the previous flush, for the per-interval figures. */
  mark: LedgerInterval = ZERO_INTERVAL;

  constructor(
    public topic: ParsedTopic,
    public since: number,
  ) {}

  /** Whether a sample with this seq and device time may be stored (see DeliveryLedger.admit). */
  admit(seq: number, ts: number): boolean {
    if (this.admittedSeq < 0 || isReset(seq, ts, this.admittedSeq, this.admittedTs)) {
      this.newRun(seq, ts);
      return true;
    }
    if (seq > this.admittedSeq && ts <= this.admittedTs && this.covered(ts)) {
      this.clockRegressions++;
      this.active = true;
      if (this.refused.size < MAX_OPEN_GAPS) this.refused.add(seq);
      return false;
    }
    this.admitted(seq, ts);
    return true;
  }

  /**
   * A new counter run (or the first sample). The time earlier runs covered stays covered: a
   * clock stepped back after a counter restart would overwrite their samples just as surely.
   */
  private newRun(seq: number, ts: number): void {
    this.admittedSeq = seq;
    this.admittedTs = ts;
    if (this.covered(ts)) this.current = this.spans.findIndex(([a, b]) => a <= ts && ts <= b);
    else this.pushSpan(ts);
  }

  /** A sample of the current run was let through (or stored): its time is covered now. */
  admitted(seq: number, ts: number): void {
    if (seq > this.admittedSeq) this.admittedSeq = seq;
    if (ts > this.admittedTs) this.admittedTs = ts;
    if (this.covered(ts)) return;
    const current = this.spans[this.current];
    if (current && ts > current[1]) {
      current[1] = ts;
      // Extended over a later span: one span now.
      for (let other = this.overlapping(current); other; other = this.overlapping(current)) {
        current[0] = Math.min(current[0], other[0]);
        current[1] = Math.max(current[1], other[1]);
        this.spans.splice(this.spans.indexOf(other), 1);
      }
      this.current = this.spans.indexOf(current);
      return;
    }
    this.pushSpan(ts);
  }

  /** A new stretch of covered time, the current one from now on. */
  private pushSpan(ts: number): void {
    this.spans.push([ts, ts]);
    if (this.spans.length > MAX_SPANS) {
      // Forget the oldest stretch of time (the smallest end) but never the current one.
      let oldest = 0;
      for (let i = 1; i < this.spans.length - 1; i++)
        if (this.spans[i]![1] < this.spans[oldest]![1]) oldest = i;
      this.spans.splice(oldest, 1);
    }
    this.current = this.spans.length - 1;
  }

  private overlapping(span: [number, number]): [number, number] | undefined {
    return this.spans.find((s) => s !== span && s[0] <= span[1] && s[1] >= span[0]);
  }

  private covered(ts: number): boolean {
    return this.spans.some(([from, to]) => from <= ts && ts <= to);
  }

  record(seq: number, ts: number): void {
    this.received++;
    this.active = true;
    this.note(seq, ts);
  }

  /** A sample known stored by other means (a spool replay): new knowledge only, no duplicate. */
  confirm(seq: number, ts: number): void {
    if (this.highest >= 0 && seq <= this.highest && seq >= this.first && !this.missing.has(seq))
      return;
    if (this.highest >= 0 && seq < this.first) return; // before the window: nothing to learn
    this.received++;
    this.active = true;
    this.note(seq, ts);
  }

  private note(seq: number, ts: number): void {
    // A device known only from stored samples (a replay): its time is covered from the first.
    if (this.spans.length === 0) this.admitted(seq, ts);
    if (this.highest < 0) return this.restart(seq, ts);
    if (seq > this.highest) {
      if (seq - this.highest - 1 > MAX_OPEN_GAPS) {
        this.resets++;
        return this.restart(seq, ts);
      }
      for (let s = this.highest + 1; s < seq; s++) if (!this.refused.delete(s)) this.missing.add(s);
      if (this.refused.size > 0) this.refused.delete(seq);
      this.highest = seq;
      this.highestTs = ts;
      // Not the spans: stored samples come in storage order, which may interleave two runs of
      // device time; only admit (in arrival order) and a journal replay (`cover`) extend them.
      if (seq > this.admittedSeq) this.admittedSeq = seq;
      if (ts > this.admittedTs) this.admittedTs = ts;
      return;
    }
    if (this.missing.delete(seq)) {
      this.late++;
      return;
    }
    if (isReset(seq, ts, this.highest, this.highestTs)) {
      this.resets++;
      return this.restart(seq, ts);
    }
    if (seq < this.first) {
      // Older than the run's start: the ledger saw later samples first (a backlog interleaved
      // with live traffic): the run starts earlier, and what lies between is a gap.
      for (let s = seq + 1; s < this.first; s++) if (!this.refused.delete(s)) this.missing.add(s);
      this.first = seq;
      this.late++;
      return;
    }
    this.duplicates++;
  }

  private restart(seq: number, ts: number): void {
    this.first = seq;
    this.highest = seq;
    this.highestTs = ts;
    this.missing.clear();
    if (this.admittedSeq < 0 || isReset(seq, ts, this.admittedSeq, this.admittedTs))
      this.newRun(seq, ts);
  }

  figures(): LedgerFigures {
    const expected = this.highest < 0 ? 0 : this.highest - this.first + 1;
    const lags = this.lags.sort((a, b) => a - b);
    const at = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? 0;
    const counters = this.counters();
    return {
      topic: this.topic,
      since: this.since,
      ...counters,
      missing: this.missing.size,
      expected,
      lastSeq: this.highest,
      completeness: expected > 0 ? (expected - this.missing.size) / expected : 1,
      interval: {
        received: counters.received - this.mark.received,
        duplicates: counters.duplicates - this.mark.duplicates,
        late: counters.late - this.mark.late,
        resets: counters.resets - this.mark.resets,
        clockRegressions: counters.clockRegressions - this.mark.clockRegressions,
      },
      ...(lags.length > 0 ? { lagMs: { p50: at(0.5), p99: at(0.99), max: at(1) } } : {}),
    };
  }

  counters(): LedgerInterval {
    return {
      received: this.received,
      duplicates: this.duplicates,
      late: this.late,
      resets: this.resets,
      clockRegressions: this.clockRegressions,
    };
  }

  state(): DeviceLedgerState {
    return {
      topic: formatTopic(this.topic),
      since: this.since,
      ...this.counters(),
      first: this.first,
      highest: this.highest,
      highestTs: this.highestTs,
      missing: toRanges(this.missing),
      refused: toRanges(this.refused),
      spans: this.spans.map(([a, b]) => [a, b] as const),
    };
  }

  static from(state: DeviceLedgerState, topic: ParsedTopic): DeviceLedger {
    const d = new DeviceLedger(topic, state.since);
    d.received = state.received;
    d.duplicates = state.duplicates;
    d.late = state.late;
    d.resets = state.resets;
    d.clockRegressions = state.clockRegressions;
    d.first = state.first;
    d.highest = state.highest;
    d.highestTs = state.highestTs;
    d.admittedSeq = state.highest;
    d.admittedTs = state.highestTs;
    // Only stored time counts after a restart: samples admitted but not stored before it come
    // again (redelivered), and must not be taken for regressions onto themselves.
    d.spans = (state.spans ?? (state.highest >= 0 ? [[state.highestTs, state.highestTs]] : []))
      .filter(([from]) => from <= state.highestTs)
      .map(([from, to]) => [from, Math.min(to, state.highestTs)]);
    d.current = d.spans.findIndex(([a, b]) => a <= state.highestTs && state.highestTs <= b);
    for (const [from, to] of state.missing) for (let s = from; s <= to; s++) d.missing.add(s);
    for (const [from, to] of state.refused ?? []) for (let s = from; s <= to; s++) d.refused.add(s);
    d.mark = d.counters();
    return d;
  }
}

/** The counter went back to near zero while the clock went forward: the device restarted. */
function isReset(seq: number, ts: number, highest: number, highestTs: number): boolean {
  return seq < highest && seq <= RESET_SEQ_MAX && ts > highestTs;
}

function toRanges(values: ReadonlySet<number>): [number, number][] {
  const sorted = [...values].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const v of sorted) {
    const last = ranges.at(-1);
    if (last && v === last[1] + 1) last[1] = v;
    else ranges.push([v, v]);
  }
  return ranges;
}

/**
 * The delivery ledger: per device, from the `seq` of every stored sample, the gaps (skipped and
 * not filled yet), duplicates, late arrivals, counter resets and clock regressions, and the lag
 * from the device's timestamp to storage — so that completeness per device is a figure, not a
 * hope. Samples without `seq` count as received only. Pure bookkeeping; the caller stores the
 * figures and persists the {@link snapshot} (see the ingestion's ledger store).
 *
 * Out of order is normal (a broker backlog interleaved with live traffic, a spool replay): an
 * older seq fills its gap, or, when older than the run's start, moves the start back (`late`
 * either way). Only a
 * seq back to near zero ({@link RESET_SEQ_MAX}) with the device clock going forward is a counter
 * reset. Without a snapshot, the first `seq` seen from a device is its starting point (`since`
 * says from when the figures count).
 */
export class DeliveryLedger {
  private readonly devices = new Map<string, DeviceLedger>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Before storing: whether a sample may be stored. False for a clock regression — a `seq` newer
   * than the device's newest, with a timestamp not after the newest one and inside the device
   * time its earlier samples of this counter run cover: stored, it could overwrite an earlier
   * sample at the same time (InfluxDB keeps one point per series and time). Counted; the caller
   * refuses the sample. A newer seq at an earlier time outside that (a device uploading an older
   * backlog) is admitted. Samples without `seq` are always admitted.
   */
  admit(topic: ParsedTopic, seq: number | undefined, ts: number): boolean {
    if (seq === undefined) return true;
    return this.device(topic).admit(seq, ts);
  }

  /** The newest sample admitted of the device (what a clock regression is measured against). */
  newest(topic: ParsedTopic): { readonly seq: number; readonly ts: number } | undefined {
    const device = this.devices.get(keyOf(topic));
    return device && device.admittedSeq >= 0
      ? { seq: device.admittedSeq, ts: device.admittedTs }
      : undefined;
  }

  /** Marks a sample's time as covered, as `admit` would have (replaying a journal). */
  cover(topic: ParsedTopic, seq: number | undefined, ts: number): void {
    if (seq === undefined) return;
    this.device(topic).admitted(seq, ts);
  }

  /** A sample of `topic`'s device was stored at `storedAt` (ms). */
  record(topic: ParsedTopic, seq: number | undefined, ts: number, storedAt: number): void {
    const device = this.device(topic);
    device.lags.push(storedAt - ts);
    if (seq === undefined) {
      device.received++;
      device.active = true;
      return;
    }
    device.record(seq, ts);
  }

  /**
   * A sample known to be stored, seen again without a device sending it (replayed from the spool,
   * written by an earlier process): fills what the ledger did not know, never counts a duplicate.
   */
  confirm(topic: ParsedTopic, seq: number, ts: number): void {
    this.device(topic).confirm(seq, ts);
  }

  /** Figures of every device that stored (or had refused) samples since the last call. */
  flush(): LedgerFigures[] {
    const out: LedgerFigures[] = [];
    for (const device of this.devices.values()) {
      if (!device.active) continue;
      out.push(device.figures());
      device.active = false;
      device.lags = [];
      device.mark = device.counters();
    }
    return out;
  }

  /** Everything needed to carry on after a restart, as plain JSON-able data. */
  snapshot(): LedgerSnapshot {
    return { v: 1, devices: [...this.devices.values()].map((d) => d.state()) };
  }

  /**
   * Takes over a snapshot (replacing any device it names); returns the devices left out because
   * their topic is no longer valid (an asset type gone from the catalogue).
   */
  restore(snapshot: LedgerSnapshot): string[] {
    const skipped: string[] = [];
    for (const state of snapshot.devices) {
      const topic = parseTopic(state.topic);
      if (!topic.ok) skipped.push(state.topic);
      else this.devices.set(keyOf(topic.value), DeviceLedger.from(state, topic.value));
    }
    return skipped;
  }

  get size(): number {
    return this.devices.size;
  }

  private device(topic: ParsedTopic): DeviceLedger {
    const key = keyOf(topic);
    let device = this.devices.get(key);
    if (!device) this.devices.set(key, (device = new DeviceLedger(topic, this.now())));
    return device;
  }
}

function keyOf(topic: Pick<ParsedTopic, 'park' | 'site' | 'deviceId'>): string {
  return `${topic.park}/${topic.site}/${topic.deviceId}`;
}
