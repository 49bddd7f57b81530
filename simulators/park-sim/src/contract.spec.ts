import { ContractValidator } from '@parkpulse/contract';
import { ASSET_COMMANDS, getAssetType, type CommandParamSpec } from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { FleetGenerator, scenarioFleet, wirePayload } from './generator.js';
import { answersFor, withCommands, type AnswerBody } from './models/commands.js';
import { createModel } from './models/index.js';
import { loadScenario } from './scenario.js';

const validator = new ContractValidator();
// Two virtual minutes: every asset type reports at least twice (the slowest every 60 s).
const SPAN_MS = 2 * 60_000;

/**
 * What the simulator sends is what the contract's JSON Schemas allow: every telemetry and event
 * message of every bundled scenario over two virtual minutes, and the malformed ones refused.
 */
describe('the simulator against the JSON Schemas', () => {
  for (const name of ['science-city-demo', 'four-areas', 'faults-demo']) {
    it(`${name}: two virtual minutes of messages valid, malformed ones invalid`, async () => {
      const scenario = await loadScenario(name);
      const start = 1764000000000;
      const generator = new FleetGenerator(scenarioFleet(scenario), scenario, start);
      const invalid: string[] = [];
      let valid = 0;
      let malformed = 0;
      for (const m of generator.until(start + SPAN_MS)) {
        const channel = m.kind === 'event' ? 'event' : 'telemetry';
        const verdict = validator.validate(channel, m.device.asset.id, wirePayload(m));
        if (m.kind === 'malformed') {
          malformed++;
          // A malformed message the schema cannot see (the ts window) is no contradiction:
          // count only the ones it passes that the ingestion would refuse for the payload.
          if (verdict.valid && !/"ts": \d+/.test(m.payload))
            invalid.push(`malformed passed: ${m.payload}`);
        } else if (verdict.valid) valid++;
        else
          invalid.push(
            `${m.device.deviceId} ${wirePayload(m)}: ${JSON.stringify(verdict.violations)}`,
          );
      }
      expect(invalid.slice(0, 5)).toEqual([]);
      expect(valid).toBeGreaterThan(100);
      if (scenario.malformedShare > 0) expect(malformed).toBeGreaterThan(0);
    }, 120_000);
  }
});

/** Values a command parameter may take at its edges, and one it may not. */
function edges(p: CommandParamSpec): { good: unknown[]; bad: unknown } {
  switch (p.kind) {
    case 'number':
      return { good: [p.min, p.max], bad: p.max + 1 };
    case 'boolean':
      return { good: [true, false], bad: 'yes' };
    case 'enum':
      return { good: [...p.values], bad: 'no_such_value' };
  }
}

/**
 * Every answer a simulated device gives — to each command of its asset type with parameters at
 * their edges, out of range, after its deadline — is a `cmd_result` the schema allows.
 */
describe("the simulator's command answers against the cmd_result schema", () => {
  const T0 = Date.UTC(2025, 10, 24, 2, 0, 0);
  for (const [assetType, commands] of Object.entries(ASSET_COMMANDS)) {
    it(`${assetType}: every answer valid`, () => {
      const asset = getAssetType(assetType)!;
      const device = withCommands(
        createModel(
          { deviceId: 'sim-1', asset, park: asset.parks[0]!, site: 'site-1', seed: 3 },
          T0,
        ),
        assetType,
      );
      let t = T0;
      for (let i = 0; i < 60; i++) device.step((t += 1000));
      const bodies: AnswerBody[] = [answersFor('expired').now];
      for (const [name, spec] of Object.entries(commands)) {
        const params = Object.entries(spec.params);
        const tries: Record<string, unknown>[] = [{}];
        for (const [key, p] of params) {
          const { good, bad } = edges(p);
          for (const value of [...good, bad]) tries.push({ ...tries[0], [key]: value });
          tries[0] = { ...tries[0], [key]: good[0] };
        }
        for (const tried of tries) {
          const { now, later } = answersFor(device.command(name, tried as never, (t += 1000)));
          bodies.push(now, ...(later ? [later.body] : []));
          device.step((t += 1000));
        }
      }
      const refused = bodies
        .map((body) => ({
          body,
          verdict: validator.validate(
            'cmd_result',
            assetType,
            JSON.stringify({ id: 'c-1', ts: t, ...body }),
          ),
        }))
        .filter((a) => !a.verdict.valid);
      expect(refused).toEqual([]);
      // The edges were tried: some answers are refusals, some are done.
      expect(bodies.some((b) => b.status === 'rejected')).toBe(true);
      expect(bodies.some((b) => b.status === 'done')).toBe(true);
    });
  }
});
