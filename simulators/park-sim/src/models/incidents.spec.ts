import { getAssetType } from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { withCommands } from './commands.js';
import { START, ctxOf } from './conformance.js';
import { createModel } from './index.js';

const MINUTE = 60_000;

function model(assetId: string, deviceId = `${assetId}-01`) {
  return withCommands(createModel(ctxOf(getAssetType(assetId)!, deviceId), START), assetId);
}

describe('incidents', () => {
  it("a freezer door left ajar warms the cabinet past the catalogue's limits, then it recovers", () => {
    const limits = getAssetType('ultra_low_freezer')!.metrics['cabinet_temp_c']!.thresholds!;
    const freezer = model('ultra_low_freezer');
    // Settled, and not in a defrost cycle when the door is left open.
    let t = START;
    let out = freezer.step(t);
    while (t < START + 600 * MINUTE && (t < START + 60 * MINUTE || out.metrics['defrost']))
      out = freezer.step((t += MINUTE / 2));
    expect(out.metrics['defrost']).toBe(false);
    expect(out.metrics['cabinet_temp_c']).toBeLessThan(limits.warning);

    expect(freezer.incident?.('door-ajar', t, 5 * MINUTE)).toBe(true);
    const during: number[] = [];
    const events: string[] = [];
    for (const end = t + 5 * MINUTE; t < end;) {
      out = freezer.step((t += MINUTE / 2));
      during.push(out.metrics['cabinet_temp_c'] as number);
      events.push(...out.events.map((e) => `${e.code}/${e.severity}`));
      if (t < end) expect(out.metrics['door_open']).toBe(true);
    }
    expect(events).toContain('DOOR_AJAR/warning');
    expect(Math.max(...during)).toBeGreaterThan(limits.critical);

    // Door shut: the compressor pulls it back under the warning limit within the hour.
    let back = 0;
    for (const end = t + 60 * MINUTE; t < end && !back;) {
      out = freezer.step((t += MINUTE / 2));
      if ((out.metrics['cabinet_temp_c'] as number) < limits.warning) back = t;
    }
    expect(out.metrics['door_open']).toBe(false);
    expect(back).toBeGreaterThan(0);
  });

  it('an asset without such an incident says so and reports as before', () => {
    const meter = model('energy_meter');
    meter.step(START + MINUTE);
    expect(meter.incident?.('door-ajar', START + MINUTE, 3 * MINUTE)).toBe(false);
  });
});
