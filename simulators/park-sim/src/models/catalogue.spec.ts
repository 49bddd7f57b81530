import { ASSET_TYPES, getAssetType, type AssetTypeSpec } from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.js';
import { START, checkOutput, ctxOf } from './conformance.js';
import { createModel, hasDedicatedModel, modelDiagnostics } from './index.js';
import type { ModelOutput } from './model.js';

const DAY = 86_400_000;

describe('device models over the whole catalogue', () => {
  it('has a dedicated model for every catalogue asset type', () => {
    expect(ASSET_TYPES.filter((a) => !hasDedicatedModel(a.id)).map((a) => a.id)).toEqual([]);
  });

  for (const asset of ASSET_TYPES) {
    it(`${asset.id}: two days at ${asset.reportIntervalS} s stay inside the catalogue, counters only grow`, () => {
      const model = createModel(ctxOf(asset), START);
      const violations: string[] = [];
      const previous: Record<string, number> = {};
      const first: Record<string, number> = {};
      const dtMs = asset.reportIntervalS * 1000;
      const steps = Math.round((2 * DAY) / dtMs);
      let last: ModelOutput | undefined;
      for (let i = 1; i <= steps && violations.length < 20; i++) {
        const out = model.step(START + i * dtMs);
        checkOutput(asset, out, previous, `#${i}`, violations);
        if (i === 1)
          for (const [k, v] of Object.entries(out.metrics)) if (typeof v === 'number') first[k] = v;
        last = out;
      }
      expect(violations).toEqual([]);
      expect(modelDiagnostics(model)).toEqual([]);
      // every counter has grown over two days
      const stuck = Object.entries(asset.metrics)
        .filter(([, s]) => s.kind === 'counter')
        .filter(([name]) => (last?.metrics[name] as number) <= (first[name] ?? 0))
        .map(([name]) => name);
      // rare-event counters may legitimately stand still for two days
      const rare = ['obstacle_stops', 'door_openings', 'sessions', 'scrap_count'];
      expect(stuck.filter((n) => !rare.includes(n))).toEqual([]);
    });
  }

  it('is deterministic: the same seed gives the same outputs, another seed others', () => {
    const differences: string[] = [];
    for (const asset of ASSET_TYPES) {
      const run = (seed: number) => {
        const m = createModel(ctxOf(asset, 'dev-7', seed), START);
        const outs: ModelOutput[] = [];
        for (let i = 1; i <= 400; i++) outs.push(m.step(START + i * 37_000));
        return JSON.stringify(outs);
      };
      const a = run(1);
      if (a !== run(1)) differences.push(`${asset.id}: same seed differs`);
      if (a === run(2)) differences.push(`${asset.id}: other seed identical`);
    }
    expect(differences).toEqual([]);
  });

  it('copes with irregular steps (0.1 s … 10 min) and repeated times', () => {
    const violations: string[] = [];
    const r = createRng(99);
    for (const asset of ASSET_TYPES) {
      const model = createModel(ctxOf(asset, 'irregular'), START);
      const previous: Record<string, number> = {};
      let t = START;
      for (let i = 0; i < 1500; i++) {
        const u = r();
        t +=
          u < 0.3
            ? 100
            : u < 0.35
              ? 0
              : u < 0.9
                ? Math.floor(r() * 30_000)
                : Math.floor(r() * 600_000);
        checkOutput(asset, model.step(t), previous, `${asset.id}#${i}`, violations);
      }
      violations.push(...modelDiagnostics(model).map((d) => `${asset.id}: ${d}`));
    }
    expect(violations).toEqual([]);
  });

  it('stays inside the catalogue in every park and in winter too (January, 60 s steps)', () => {
    const winter = Date.UTC(2026, 0, 12, 16, 0, 0); // Tuesday 2026-01-13 00:00 local
    const violations: string[] = [];
    for (const asset of ASSET_TYPES) {
      for (const park of asset.parks) {
        const model = createModel({ ...ctxOf(asset, `${park}-${asset.id}`), park }, winter);
        const previous: Record<string, number> = {};
        for (let i = 1; i <= 2 * 1440; i++)
          checkOutput(
            asset,
            model.step(winter + i * 60_000),
            previous,
            `${park}/${asset.id}#${i}`,
            violations,
          );
        violations.push(...modelDiagnostics(model).map((d) => `${park}/${asset.id}: ${d}`));
      }
    }
    expect(violations).toEqual([]);
  });

  it('falls back to a generic, catalogue-conform model for unknown asset types', () => {
    const cnc = getAssetType('cnc_machine')!;
    const unknown: AssetTypeSpec = { ...cnc, id: 'laser_cutter', name: 'Laser cutter' };
    const model = createModel(ctxOf(unknown), START);
    const violations: string[] = [];
    const previous: Record<string, number> = {};
    for (let i = 1; i <= 5000; i++)
      checkOutput(unknown, model.step(START + i * 10_000), previous, `#${i}`, violations);
    expect(violations).toEqual([]);
    expect(modelDiagnostics(model)).toEqual([]);
  });
});
