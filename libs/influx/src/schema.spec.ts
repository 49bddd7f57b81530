import { startInfluxd, type InfluxdHandle } from '@parkpulse/dev-services';
import { ASSET_TYPES, getAssetType } from '@parkpulse/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_INFLUX_CONFIG } from './config.js';
import {
  RETENTION_TIERS,
  RP_CONFIG_MEASUREMENT,
  backfillStatements,
  continuousQueries,
  rollupSelect,
  schemaStatements,
} from './schema.js';
import { InfluxStore } from './store.js';

describe('storage layout (pure)', () => {
  it('rolls every catalogue metric up under its own name, by kind', () => {
    const line = getAssetType('production_line')!;
    const select = rollupSelect('telemetry', line, RETENTION_TIERS[1]!);
    expect(select).toContain('mean("power_kw") AS "power_kw"');
    expect(select).toContain('last("good_count") AS "good_count"');
    expect(select).toContain('mode("state") AS "state"');
    expect(select).toContain(
      'INTO "telemetry"."rollup_1m"."production_line" FROM "telemetry"."raw"."production_line"',
    );
    expect(select).toMatch(/GROUP BY time\(1m\), \*$/);
  });

  it('names each continuous query after a hash of its query', () => {
    const cqs = continuousQueries('telemetry');
    expect(cqs).toHaveLength(ASSET_TYPES.length * 2);
    expect(new Set(cqs.map((c) => c.name)).size).toBe(cqs.length);
    const other = continuousQueries('other');
    expect(other[0]!.name).not.toBe(cqs[0]!.name);
    expect(schemaStatements('telemetry')[1]).toMatch(/"raw" .* DURATION 30d .* DEFAULT$/);
  });
});

describe('storage layout on a real influxd', () => {
  let influxd: InfluxdHandle;
  let store: InfluxStore;
  const rows = async (q: string) => ((await store.query(q))[0] ?? []).flatMap((s) => s.values);

  beforeAll(async () => {
    influxd = await startInfluxd();
    store = new InfluxStore({ ...DEFAULT_INFLUX_CONFIG, url: influxd.url, database: 'layout' });
    // an older layout: a continuous query of ours the catalogue no longer produces
    await store.query('CREATE DATABASE layout');
    await store.query('CREATE RETENTION POLICY raw ON layout DURATION 30d REPLICATION 1 DEFAULT');
    await store.query('CREATE RETENTION POLICY rollup_1m ON layout DURATION 7d REPLICATION 1');
    await store.query(
      'CREATE CONTINUOUS QUERY rollup_1m_old_0000 ON layout BEGIN SELECT mean(x) AS x INTO layout.rollup_1m.old FROM layout.raw.old GROUP BY time(1m), * END',
    );
    await store.ensureDatabase();
    await store.ensureDatabase(); // idempotent
  });

  afterAll(async () => {
    store?.close();
    await influxd?.stop();
  });

  it('creates the tiers, raw as the default, and keeps an operator-set duration', async () => {
    const policies = await rows('SHOW RETENTION POLICIES ON layout');
    const byName = new Map(policies.map((r) => [r[0], r]));
    expect([...byName.keys()].sort()).toEqual(
      ['autogen', 'meta', 'raw', 'rollup_1h', 'rollup_1m'].sort(),
    );
    expect(byName.get('raw')![4]).toBe(true); // default
    expect(byName.get('raw')![1]).toBe('720h0m0s');
    expect(byName.get('rollup_1m')![1]).toBe('168h0m0s'); // left as the operator set it
    expect(byName.get('meta')![1]).toBe('0s');
  });

  it('has exactly the current continuous queries (the stale one dropped)', async () => {
    const series = (await store.query('SHOW CONTINUOUS QUERIES'))[0] ?? [];
    const names = series
      .filter((s) => s.name === 'layout')
      .flatMap((s) => (s.values ?? []).map((r) => r[0]));
    expect(names.sort()).toEqual(
      continuousQueries('layout')
        .map((c) => c.name)
        .sort(),
    );
  });

  it('tells dashboards which tier serves a time range', async () => {
    const pick = async (rangeMs: number) =>
      (
        await rows(
          `SELECT "rp" FROM "meta"."${RP_CONFIG_MEASUREMENT}" WHERE "lower_ms" < ${rangeMs} AND "upper_ms" >= ${rangeMs}`,
        )
      ).map((r) => r[1]);
    expect(await pick(6 * 3_600_000)).toEqual(['raw']);
    expect(await pick(2 * 86_400_000)).toEqual(['raw']);
    expect(await pick(7 * 86_400_000)).toEqual(['rollup_1m']);
    expect(await pick(30 * 86_400_000)).toEqual(['rollup_1h']);
    expect(await pick(365 * 86_400_000)).toEqual(['rollup_1h']);
  });

  it('backfills roll-ups that read like raw data: same names, means, last counters, modal state', async () => {
    const t0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000; // an hour boundary
    const lines: string[] = [];
    for (let i = 0; i < 120; i++) {
      const state = i % 60 < 40 ? 'running' : 'idle';
      lines.push(
        `production_line,park=science-city,site=s,device=l1 state="${state}",power_kw=${100 + (i % 60)},good_count=${1000 + i} ${t0 + i * 1000}`,
      );
    }
    const res = await fetch(`${influxd.url}/write?db=layout&precision=ms`, {
      method: 'POST',
      body: lines.join('\n'),
    });
    expect(res.status).toBe(204);
    for (const statement of backfillStatements('layout', t0, t0 + 120_000))
      await store.query(statement);
    const minute = await rows(
      'SELECT "state", "power_kw", "good_count" FROM "rollup_1m"."production_line" WHERE "device" = \'l1\'',
    );
    expect(minute).toEqual([
      [t0, 'running', 129.5, 1059],
      [t0 + 60_000, 'running', 129.5, 1119],
    ]);
    const hour = await rows(
      'SELECT "state", "power_kw", "good_count" FROM "rollup_1h"."production_line" WHERE "device" = \'l1\'',
    );
    expect(hour).toEqual([[t0, 'running', 129.5, 1119]]);
  });
});
