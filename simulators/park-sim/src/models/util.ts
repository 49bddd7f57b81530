import type { AssetTypeSpec, FieldValue, MetricSpec } from '@parkpulse/telemetry';
import { createRng, hashString } from '../rng.js';
import type { DeviceModel, EventSeverity, ModelContext, ModelEvent, ModelOutput } from './model.js';

export type Rng = () => number;

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** The parks are in China: local time is UTC+8 all year (no daylight saving). */
export const LOCAL_UTC_OFFSET_H = 8;
export const LOCAL_UTC_OFFSET_MS = LOCAL_UTC_OFFSET_H * HOUR_MS;

// ---------------------------------------------------------------------------------------------
// Numbers and randomness

export const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
export const round = (v: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
export const lerp = (a: number, b: number, f: number): number => a + (b - a) * f;

/** The device's own stream: the one source of randomness of a model. */
export function deviceRng(ctx: ModelContext): Rng {
  return createRng(ctx.seed ^ hashString(ctx.deviceId));
}

/** An independent stream derived from another one (so that adding draws to one part of a model does not shift the others). */
export function deriveRng(rng: Rng): Rng {
  return createRng(Math.floor(rng() * 4294967296));
}

export const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng();
export const uniformInt = (rng: Rng, lo: number, hi: number): number =>
  Math.floor(uniform(rng, lo, hi + 1));

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)] ?? items[0];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** A standard normal draw (Box–Muller). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** An exponentially distributed duration with the given mean. */
export const expSample = (rng: Rng, mean: number): number => -mean * Math.log(1 - rng());

/** Whether a Poisson event with `ratePerS` happens within `dtS` seconds. */
export const occurs = (rng: Rng, ratePerS: number, dtS: number): boolean =>
  ratePerS > 0 && rng() < 1 - Math.exp(-ratePerS * dtS);

/** Moves `value` towards `target` as a first-order lag with time constant `tauS`. */
export function lagToward(value: number, target: number, dtS: number, tauS: number): number {
  if (tauS <= 0) return target;
  return target + (value - target) * Math.exp(-dtS / tauS);
}

/**
 * An Ornstein–Uhlenbeck process (mean-reverting noise), exactly discretised so that its statistics
 * do not depend on the step size.
 */
export class Ou {
  value: number;
  constructor(
    private readonly rng: Rng,
    public mean: number,
    public sigma: number,
    public tauS: number,
    x0?: number,
  ) {
    this.value = x0 ?? mean + sigma * gaussian(rng);
  }

  step(dtS: number): number {
    const a = Math.exp(-dtS / this.tauS);
    this.value =
      this.mean +
      (this.value - this.mean) * a +
      this.sigma * Math.sqrt(1 - a * a) * gaussian(this.rng);
    return this.value;
  }
}

/** Deterministic smooth noise in [-1, 1] of time alone (cosine-interpolated value noise). */
export function smoothNoise(key: number, tMs: number, periodMs: number): number {
  const x = tMs / periodMs;
  const k = Math.floor(x);
  const f = x - k;
  const knot = (i: number) => createRng((key ^ Math.imul(i | 0, 0x9e3779b1)) >>> 0)() * 2 - 1;
  const w = (1 - Math.cos(Math.PI * f)) / 2;
  return lerp(knot(k), knot(k + 1), w);
}

/** A value in [0, 1) fixed for a key and an integer index (e.g. per local day). */
export function hashUnit(key: number, index: number, salt = 0): number {
  return createRng((key ^ Math.imul(index | 0, 0x85ebca6b) ^ Math.imul(salt, 0xc2b2ae35)) >>> 0)();
}

// ---------------------------------------------------------------------------------------------
// Local time (UTC+8)

/** Local hour of the day, fractional, in [0, 24). */
export function localHour(tMs: number): number {
  const ms = (((tMs + LOCAL_UTC_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS;
  return ms / HOUR_MS;
}

/** Local calendar day number (days since 1970-01-01 local). */
export const localDay = (tMs: number): number => Math.floor((tMs + LOCAL_UTC_OFFSET_MS) / DAY_MS);

/** Local day of the week, 0 = Sunday … 6 = Saturday. */
export const localWeekday = (tMs: number): number => (((localDay(tMs) + 4) % 7) + 7) % 7;

export const isWeekend = (tMs: number): boolean => {
  const d = localWeekday(tMs);
  return d === 0 || d === 6;
};

/** Local day of the year, 1 … 366. */
export function dayOfYear(tMs: number): number {
  const local = new Date(tMs + LOCAL_UTC_OFFSET_MS);
  const start = Date.UTC(local.getUTCFullYear(), 0, 1);
  return Math.floor((local.getTime() - start) / DAY_MS) + 1;
}

/** A smooth bump: 1 at `centreH`, falling to 0 at ±`halfWidthH` (raised cosine), local hours. */
export function bump(hour: number, centreH: number, halfWidthH: number): number {
  let d = Math.abs(hour - centreH);
  d = Math.min(d, 24 - d);
  return d >= halfWidthH ? 0 : (1 + Math.cos((Math.PI * d) / halfWidthH)) / 2;
}

/** Office occupancy 0…1: weekdays 08:00–19:00 with a lunch dip, a little on Saturdays. */
export function officeOccupancy(tMs: number): number {
  const h = localHour(tMs);
  const wd = localWeekday(tMs);
  const ramp = (x: number, a: number, b: number) => clamp((x - a) / (b - a), 0, 1);
  let occ = ramp(h, 7.5, 9.5) * (1 - ramp(h, 17.5, 20.5));
  occ *= 1 - 0.3 * bump(h, 12.5, 1);
  if (wd === 0) occ *= 0.08;
  else if (wd === 6) occ *= 0.3;
  return occ;
}

// ---------------------------------------------------------------------------------------------
// The base of every model: sub-stepping by elapsed time, events, and catalogue-conform output.

const INTEGER_METRIC =
  /(_count$|^sessions$|^trips$|_cycles$|_stops$|_openings$|^jobs_|_online$|^connected_ue$|^active_alarms$|^error_code$|^floor$)/;

export abstract class BaseModel implements DeviceModel {
  protected readonly rng: Rng;
  protected readonly asset: AssetTypeSpec;
  /** The model's own clock (epoch ms): the end of the last tick. */
  protected now: number;
  /** Problems that `finalise` had to repair; empty for a correct model. */
  readonly diagnostics = new Set<string>();
  private readonly pending: ModelEvent[] = [];
  private readonly lastCounter = new Map<string, number>();

  protected constructor(
    readonly ctx: ModelContext,
    startMs: number,
    /** Longest internal integration step, seconds. */
    protected readonly maxTickS: number,
  ) {
    this.rng = deviceRng(ctx);
    this.asset = ctx.asset;
    this.now = startMs;
  }

  get state(): string | undefined {
    return undefined;
  }

  step(tMs: number): ModelOutput {
    if (tMs > this.now) {
      const totalS = (tMs - this.now) / SECOND_MS;
      const n = Math.max(1, Math.ceil(totalS / this.maxTickS - 1e-9));
      const start = this.now;
      for (let i = 1; i <= n; i++) {
        const t0 = this.now;
        this.now = i === n ? tMs : start + ((tMs - start) * i) / n;
        this.tick(t0, (this.now - t0) / SECOND_MS);
      }
    }
    const metrics = this.finalise(this.sample());
    return { metrics, events: this.pending.splice(0) };
  }

  /** Advances the physics from `t0Ms` by `dtS` seconds (never more than `maxTickS`). */
  protected abstract tick(t0Ms: number, dtS: number): void;

  /** The raw reading at `this.now`: every metric of the asset. */
  protected abstract sample(): Record<string, FieldValue>;

  /** Decimals of a numeric metric (default: integers for counts, 3 for other counters, else 2). */
  protected decimals(name: string, spec: MetricSpec): number {
    if (INTEGER_METRIC.test(name)) return 0;
    return spec.kind === 'counter' ? 3 : 2;
  }

  protected emit(code: string, severity: EventSeverity, message: string): void {
    this.pending.push({ code, severity, message });
  }

  private finalise(raw: Record<string, FieldValue>): Record<string, FieldValue> {
    const out: Record<string, FieldValue> = {};
    for (const [name, spec] of Object.entries(this.asset.metrics)) {
      out[name] = this.conform(name, spec, raw[name]);
    }
    return out;
  }

  private conform(name: string, spec: MetricSpec, v: FieldValue | undefined): FieldValue {
    if (v === undefined) this.diagnostics.add(`${name}: not produced`);
    switch (spec.kind) {
      case 'enum': {
        if (typeof v === 'string' && spec.values?.includes(v)) return v;
        if (v !== undefined) this.diagnostics.add(`${name}: ${String(v)} is not an allowed value`);
        return spec.values?.[0] ?? '';
      }
      case 'boolean':
        if (typeof v === 'boolean') return v;
        if (v !== undefined) this.diagnostics.add(`${name}: not a boolean`);
        return false;
      default: {
        let x: number;
        if (typeof v === 'number' && Number.isFinite(v)) x = v;
        else {
          if (v !== undefined) this.diagnostics.add(`${name}: not a finite number`);
          x = spec.min ?? 0;
        }
        const lo = spec.min ?? -Infinity;
        const hi = spec.max ?? Infinity;
        const slack = Number.isFinite(hi - lo) ? 0.05 * (hi - lo) : 1e-6;
        if (x < lo - slack || x > hi + slack)
          this.diagnostics.add(`${name}: ${x} far out of range`);
        x = clamp(round(x, this.decimals(name, spec)), lo, hi);
        if (spec.kind === 'counter') {
          const prev = this.lastCounter.get(name);
          if (prev !== undefined && x < prev) {
            this.diagnostics.add(`${name}: counter went down`);
            x = prev;
          }
          this.lastCounter.set(name, x);
        }
        return x;
      }
    }
  }
}

/** What a model had to repair in its output (missing metrics, wrong kinds, falling counters): [] when correct. */
export function modelDiagnostics(model: DeviceModel): readonly string[] {
  return model instanceof BaseModel ? [...model.diagnostics] : [];
}

/** A monotonic accumulator that carries the fractional part (parts, cycles, trips …). */
export class Accumulator {
  private frac = 0;
  constructor(public count: number) {}
  /** Adds `amount` (≥ 0) of work units; returns how many whole units completed. */
  add(amount: number): number {
    this.frac += Math.max(0, amount);
    const whole = Math.floor(this.frac);
    this.frac -= whole;
    this.count += whole;
    return whole;
  }
}

/** A two-state Markov switch (a door, an alarm): opens with one rate, closes with another. */
export class Toggle {
  on = false;
  /** Time the switch has been in its current position, s. */
  heldS = 0;
  step(rng: Rng, dtS: number, openPerS: number, closePerS: number): boolean {
    this.heldS += dtS;
    const flip = this.on ? occurs(rng, closePerS, dtS) : occurs(rng, openPerS, dtS);
    if (flip) {
      this.on = !this.on;
      this.heldS = 0;
    }
    return this.on;
  }
}

/** Cosine interpolation between 24 hourly knots (index 0 = 00:00 local): a smooth daily profile. */
export function hourlyProfile(knots: readonly number[], hour: number): number {
  const n = knots.length;
  const i = Math.floor(hour) % n;
  const f = hour - Math.floor(hour);
  const a = knots[i] ?? 0;
  const b = knots[(i + 1) % n] ?? 0;
  return lerp(a, b, (1 - Math.cos(Math.PI * f)) / 2);
}
