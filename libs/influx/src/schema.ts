import { createHash } from 'node:crypto';
import { ASSET_TYPES, type AssetTypeSpec, type MetricKind } from '@parkpulse/telemetry';

/**
 * The storage layout on InfluxDB 1.x: raw points for a month, 1-minute and 1-hour roll-ups for
 * long ranges, made by continuous queries generated from the asset catalogue, and the table that
 * lets a dashboard pick the retention policy that suits its time range.
 *
 * Roll-ups keep each metric's name, so one query reads raw or rolled-up data by its
 * `FROM "<rp>"."<measurement>"` alone: gauges are averaged, counters keep their last value (a
 * difference of counters stays exact), booleans their last value and enums the most frequent one.
 */
export interface RetentionTier {
  /** Retention policy name. */
  readonly name: string;
  /** InfluxQL duration of the policy. */
  readonly duration: string;
  /** Roll-up interval ('' = raw points), and the same in ms (0 = raw). */
  readonly every: string;
  readonly everyMs: number;
  /** The tier the roll-up reads from ('' = raw points). */
  readonly source: string;
  /** How late a point may arrive and still be rolled up (the continuous query's FOR). */
  readonly lateness: string;
  /** Dashboards use this tier for time ranges up to this many milliseconds (Infinity = beyond). */
  readonly maxRangeMs: number;
}

const DAY_MS = 86_400_000;

export const RETENTION_TIERS: readonly RetentionTier[] = [
  {
    name: 'raw',
    duration: '30d',
    every: '',
    everyMs: 0,
    source: '',
    lateness: '',
    maxRangeMs: 2 * DAY_MS,
  },
  {
    name: 'rollup_1m',
    duration: '90d',
    every: '1m',
    everyMs: 60_000,
    source: 'raw',
    lateness: '10m',
    maxRangeMs: 10 * DAY_MS,
  },
  {
    name: 'rollup_1h',
    duration: '1095d',
    every: '1h',
    everyMs: 3_600_000,
    source: 'rollup_1m',
    lateness: '3h',
    maxRangeMs: Number.POSITIVE_INFINITY,
  },
];

/** Holds `rp_config` (forever): small tables that describe the schema to dashboards. */
export const META_RETENTION_POLICY = 'meta';

/** One row per tier: `rp` is used for ranges in (`lower_ms`, `upper_ms`]. */
export const RP_CONFIG_MEASUREMENT = 'rp_config';

/** The raw tier: the database's default retention policy, where the ingestion writes. */
export const RAW_RETENTION_POLICY = 'raw';

/** How each kind of metric is rolled up. */
export const ROLLUP_FUNCTION: Readonly<Record<MetricKind, string>> = {
  gauge: 'mean',
  counter: 'last',
  boolean: 'last',
  enum: 'mode',
};

const ident = (name: string) => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** The SELECT … INTO that rolls one asset type's metrics from one tier into the next. */
export function rollupSelect(
  database: string,
  asset: AssetTypeSpec,
  tier: RetentionTier,
  timeCondition = '',
): string {
  const fields = Object.entries(asset.metrics)
    .map(([name, spec]) => `${ROLLUP_FUNCTION[spec.kind]}(${ident(name)}) AS ${ident(name)}`)
    .join(', ');
  const from = `${ident(database)}.${ident(tier.source)}.${ident(asset.id)}`;
  const into = `${ident(database)}.${ident(tier.name)}.${ident(asset.id)}`;
  const where = timeCondition ? ` WHERE ${timeCondition}` : '';
  return `SELECT ${fields} INTO ${into} FROM ${from}${where} GROUP BY time(${tier.every}), *`;
}

/** Roll-up tiers (every tier but raw). */
export const ROLLUP_TIERS = RETENTION_TIERS.filter((t) => t.every !== '');

export interface ContinuousQuery {
  readonly name: string;
  readonly statement: string;
}

/**
 * The continuous queries, one per tier and asset type. Each name ends in a hash of its query, so
 * a changed catalogue yields new names: the bootstrap drops the stale ones and creates the new.
 */
export function continuousQueries(
  database: string,
  assets: readonly AssetTypeSpec[] = ASSET_TYPES,
): ContinuousQuery[] {
  return ROLLUP_TIERS.flatMap((tier) =>
    assets.map((asset) => {
      const select = rollupSelect(database, asset, tier);
      const hash = createHash('sha256').update(select).digest('hex').slice(0, 8);
      const name = `${tier.name}_${asset.id}_${hash}`;
      return {
        name,
        statement:
          `CREATE CONTINUOUS QUERY ${ident(name)} ON ${ident(database)} ` +
          `RESAMPLE EVERY ${tier.every} FOR ${tier.lateness} BEGIN ${select} END`,
      };
    }),
  );
}

/** Every continuous query of ours starts with a tier name. */
export const isOwnContinuousQuery = (name: string) =>
  ROLLUP_TIERS.some((t) => name.startsWith(`${t.name}_`));

/** `rp_config` rows as line protocol: which tier serves which time-range width. */
export function rpConfigLines(): string[] {
  let lower = 0;
  return RETENTION_TIERS.map((tier, i) => {
    const upper = Number.isFinite(tier.maxRangeMs) ? tier.maxRangeMs : 1e15;
    const line = `${RP_CONFIG_MEASUREMENT},idx=${i} rp="${tier.name}",lower_ms=${lower}i,upper_ms=${upper}i 0`;
    lower = upper;
    return line;
  });
}

/**
 * The database, its retention policies and continuous queries as InfluxQL, in order (for an init
 * script). The ingestion applies the same idempotently at start-up, and writes `rp_config`.
 */
export function schemaStatements(database: string): string[] {
  const db = ident(database);
  return [
    `CREATE DATABASE ${db}`,
    ...RETENTION_TIERS.map(
      (t) =>
        `CREATE RETENTION POLICY ${ident(t.name)} ON ${db} DURATION ${t.duration} REPLICATION 1` +
        (t.name === RAW_RETENTION_POLICY ? ' DEFAULT' : ''),
    ),
    `CREATE RETENTION POLICY ${ident(META_RETENTION_POLICY)} ON ${db} DURATION INF REPLICATION 1`,
    ...continuousQueries(database).map((cq) => cq.statement),
  ];
}

/**
 * Rolls up what is already stored between two instants (ms) — history that arrived after its
 * continuous query's window closed (a replay, a device's offline buffer uploaded hours later).
 * Tiers run in order, so the 1-hour roll-up reads the 1-minute one just written.
 */
export function backfillStatements(
  database: string,
  fromMs: number,
  toMs: number,
  assets: readonly AssetTypeSpec[] = ASSET_TYPES,
): string[] {
  return ROLLUP_TIERS.flatMap((tier) => {
    const from = Math.floor(fromMs / tier.everyMs) * tier.everyMs;
    const to = Math.ceil(toMs / tier.everyMs) * tier.everyMs;
    return assets.map((asset) =>
      rollupSelect(database, asset, tier, `time >= ${from}ms AND time < ${to}ms`),
    );
  });
}
