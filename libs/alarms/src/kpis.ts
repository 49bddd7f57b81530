import { ALARM_PRIORITIES, type AlarmPriority } from './definitions.js';
import type { AlarmState } from './state-machine.js';

/** One annunciated activation (an alarm raised where an operator sees it). */
export interface Activation {
  readonly alarmId: string;
  readonly name: string;
  readonly priority: AlarmPriority;
  readonly at: number;
}

export interface CurrentAlarm {
  readonly alarmId: string;
  readonly name: string;
  readonly state: AlarmState;
  readonly active: boolean;
  readonly raisedAt?: number;
}

export interface KpiOptions {
  readonly now: number;
  /** How far back the figures look (default 24 h). */
  readonly windowMs?: number;
  /** Operator positions the alarms are shared by (default 1). */
  readonly operators?: number;
}

/** ISA-18.2 / EEMUA 191 figures. */
export const KPI_RULES = {
  bucketMs: 10 * 60_000,
  /** More than this many alarms in 10 minutes per operator is a flood. */
  floodAbove: 10,
  /** This many activations of one alarm within a minute is chattering. */
  chatterCount: 3,
  chatterWindowMs: 60_000,
  /** Standing (active) for longer than this is stale. */
  staleAfterMs: 24 * 3600_000,
} as const;

export interface AlarmKpis {
  readonly from: number;
  readonly to: number;
  readonly operators: number;
  readonly annunciated: number;
  /** Alarms per operator per 10 minutes: the mean over the window and the busiest interval. */
  readonly perOperatorPer10Min: { readonly average: number; readonly peak: number };
  /** Runs of 10-minute intervals (aligned to the clock) with more than 10 alarms per operator. */
  readonly floods: {
    readonly count: number;
    readonly percentOfTime: number;
    readonly periods: readonly {
      readonly from: number;
      readonly to: number;
      readonly alarms: number;
    }[];
  };
  readonly chattering: readonly {
    readonly alarmId: string;
    readonly name: string;
    readonly activations: number;
  }[];
  readonly stale: readonly {
    readonly alarmId: string;
    readonly name: string;
    readonly since: number;
  }[];
  readonly priorityMix: Readonly<
    Record<AlarmPriority, { readonly count: number; readonly percent: number }>
  >;
  readonly top10: readonly {
    readonly alarmId: string;
    readonly name: string;
    readonly count: number;
    readonly percent: number;
  }[];
}

const pct = (part: number, whole: number) =>
  whole === 0 ? 0 : Math.round((1000 * part) / whole) / 10;

/** The alarm-system performance figures the standard asks for, from the activations in a window. */
export function computeKpis(
  activations: readonly Activation[],
  current: readonly CurrentAlarm[],
  options: KpiOptions,
): AlarmKpis {
  const windowMs = options.windowMs ?? 24 * 3600_000;
  const operators = Math.max(1, options.operators ?? 1);
  const to = options.now;
  const from = to - windowMs;
  const inWindow = activations.filter((a) => a.at > from && a.at <= to).sort((a, b) => a.at - b.at);
  const B = KPI_RULES.bucketMs;

  const buckets = new Map<number, number>();
  for (const a of inWindow) {
    const b = Math.floor(a.at / B) * B;
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
  }
  const intervals = Math.max(1, Math.ceil(windowMs / B));
  const peak = Math.max(0, ...buckets.values()) / operators;

  const periods: { from: number; to: number; alarms: number }[] = [];
  for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
    if (buckets.get(b)! / operators <= KPI_RULES.floodAbove) continue;
    const last = periods[periods.length - 1];
    if (last && last.to === b) {
      last.to = b + B;
      last.alarms += buckets.get(b)!;
    } else periods.push({ from: b, to: b + B, alarms: buckets.get(b)! });
  }
  const floodMs = periods.reduce((s, p) => s + (p.to - p.from), 0);

  const byAlarm = new Map<string, Activation[]>();
  for (const a of inWindow) {
    const list = byAlarm.get(a.alarmId) ?? [];
    list.push(a);
    byAlarm.set(a.alarmId, list);
  }
  const chattering: { alarmId: string; name: string; activations: number }[] = [];
  for (const [alarmId, list] of byAlarm) {
    const n = KPI_RULES.chatterCount;
    const chatters = list.some(
      (a, i) => i + n - 1 < list.length && list[i + n - 1]!.at - a.at <= KPI_RULES.chatterWindowMs,
    );
    if (chatters) chattering.push({ alarmId, name: list[0]!.name, activations: list.length });
  }
  chattering.sort((a, b) => b.activations - a.activations || a.alarmId.localeCompare(b.alarmId));

  const stale = current
    .filter(
      (c) =>
        c.active &&
        c.raisedAt !== undefined &&
        to - c.raisedAt > KPI_RULES.staleAfterMs &&
        (c.state === 'unacknowledged' || c.state === 'acknowledged'),
    )
    .map((c) => ({ alarmId: c.alarmId, name: c.name, since: c.raisedAt! }))
    .sort((a, b) => a.since - b.since || a.alarmId.localeCompare(b.alarmId));

  const mix = Object.fromEntries(
    ALARM_PRIORITIES.map((p) => {
      const count = inWindow.filter((a) => a.priority === p).length;
      return [p, { count, percent: pct(count, inWindow.length) }];
    }),
  ) as Record<AlarmPriority, { count: number; percent: number }>;

  const top10 = [...byAlarm.entries()]
    .map(([alarmId, list]) => ({
      alarmId,
      name: list[0]!.name,
      count: list.length,
      percent: pct(list.length, inWindow.length),
    }))
    .sort((a, b) => b.count - a.count || a.alarmId.localeCompare(b.alarmId))
    .slice(0, 10);

  return {
    from,
    to,
    operators,
    annunciated: inWindow.length,
    perOperatorPer10Min: {
      average: Math.round((100 * inWindow.length) / operators / intervals) / 100,
      peak,
    },
    floods: { count: periods.length, percentOfTime: pct(floodMs, windowMs), periods },
    chattering,
    stale,
    priorityMix: mix,
    top10,
  };
}
