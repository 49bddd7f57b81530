import { ContractValidator } from '@parkpulse/contract';
import { describe, expect, it } from 'vitest';
import { FleetGenerator, scenarioFleet, wirePayload } from './generator.js';
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
