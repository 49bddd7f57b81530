import { InfluxStore, DEFAULT_INFLUX_CONFIG, quoteIdent, quoteString } from '@parkpulse/influx';
import type { FleetDevice } from './generator.js';
import type { RunReport } from './report.js';
import type { Scenario } from './scenario.js';

export interface VerdictRow {
  readonly objective: string;
  readonly target: string;
  readonly actual: string;
  readonly pass: boolean;
}

export interface Verdict {
  readonly pass: boolean;
  readonly rows: readonly VerdictRow[];
  /** Samples found in InfluxDB for this run's devices and time window (when checked). */
  readonly stored?: number;
}

export interface StoreCheck {
  readonly influxUrl: string;
  readonly database?: string;
  readonly fleet: readonly FleetDevice[];
  /** The run's time window (ms); device clock skew is added on both sides. */
  readonly fromMs: number;
  readonly toMs: number;
  /** How long to wait for the ingestion to catch up. */
  readonly waitMs?: number;
  /** Samples already there before the run (same devices, same window), subtracted. */
  readonly baseline?: number;
}

/** Counts the samples stored for the fleet's devices in the window (the `seq` field of each point). */
export async function countStored(check: StoreCheck): Promise<number> {
  const store = new InfluxStore({
    ...DEFAULT_INFLUX_CONFIG,
    url: check.influxUrl,
    database: check.database ?? 'telemetry',
  });
  const skew = Math.max(0, ...check.fleet.map((d) => Math.abs(d.skewMs)));
  const groups = new Map<
    string,
    { measurement: string; park: string; site: string; ids: Set<string> }
  >();
  for (const d of check.fleet) {
    const key = `${d.asset.id}/${d.park}/${d.site}`;
    const g = groups.get(key) ?? {
      measurement: d.asset.id,
      park: d.park,
      site: d.site,
      ids: new Set<string>(),
    };
    g.ids.add(d.deviceId);
    groups.set(key, g);
  }
  let total = 0;
  try {
    for (const g of groups.values()) {
      const [series = []] = await store.query(
        `SELECT COUNT("seq") FROM ${quoteIdent(g.measurement)} WHERE "park" = ${quoteString(g.park)} AND "site" = ${quoteString(g.site)} ` +
          `AND time >= ${Math.floor(check.fromMs - skew)}ms AND time <= ${Math.ceil(check.toMs + skew)}ms GROUP BY "device"`,
      );
      for (const s of series)
        if (g.ids.has(s.tags?.['device'] ?? '')) total += Number(s.values[0]?.[1] ?? 0);
    }
  } finally {
    store.close();
  }
  return total;
}

/**
 * Judges a run against the scenario's objectives: every message acknowledged, p99 ack latency, and
 * — when InfluxDB is given — zero loss: stored ≥ acknowledged (polled while the ingestion catches up).
 */
export async function judge(
  report: RunReport,
  objectives: Scenario['objectives'],
  check?: StoreCheck,
): Promise<Verdict> {
  const rows: VerdictRow[] = [];
  const ackedShare = report.sent === 0 ? 1 : report.acked / report.sent;
  rows.push({
    objective: 'acknowledged',
    target: `≥ ${(objectives.minAckedShare * 100).toFixed(1)} % of samples`,
    actual: `${report.acked} of ${report.sent} (${(ackedShare * 100).toFixed(2)} %)`,
    pass: ackedShare >= objectives.minAckedShare,
  });
  if (objectives.p99AckMs !== undefined) {
    rows.push({
      objective: 'p99 publish → PUBACK',
      target: `≤ ${objectives.p99AckMs} ms`,
      actual: `${report.latencyMs.p99} ms`,
      pass: report.latencyMs.p99 <= objectives.p99AckMs,
    });
  }
  let stored: number | undefined;
  if (objectives.zeroLoss && check) {
    const deadline = Date.now() + (check.waitMs ?? 30_000);
    for (;;) {
      stored = (await countStored(check)) - (check.baseline ?? 0);
      if (stored >= report.acked || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    rows.push({
      objective: 'zero loss (InfluxDB)',
      target: `stored ≥ acknowledged (${report.acked})`,
      actual: `${stored} stored`,
      pass: stored >= report.acked,
    });
  } else if (objectives.zeroLoss) {
    rows.push({
      objective: 'zero loss (InfluxDB)',
      target: 'stored ≥ acknowledged',
      actual: 'not checked: no --influx URL',
      pass: true,
    });
  }
  return { pass: rows.every((r) => r.pass), rows, ...(stored !== undefined ? { stored } : {}) };
}
