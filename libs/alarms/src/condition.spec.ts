import { describe, expect, it } from 'vitest';
import { CONDITION_NORMAL, observe, tick, type ConditionState } from './condition.js';
import type { AlarmDefinition } from './definitions.js';

const base = {
  assetType: 'ultra_low_freezer',
  name: 'test',
  priority: 'high',
  latched: false,
  consequence: '',
  response: '',
} as const;

/** Trips above −70, clears below −71 (deadband 1), after 30 s either way. */
const hihi: AlarmDefinition = {
  ...base,
  id: 'ultra_low_freezer.cabinet_temp_c.hihi',
  tag: 'cabinet_temp_c.hihi',
  source: { kind: 'limit', metric: 'cabinet_temp_c', direction: 'above', limit: -70, deadband: 1 },
  onDelayMs: 30_000,
  offDelayMs: 30_000,
};
const lolo: AlarmDefinition = {
  ...hihi,
  id: 'x.flow.lolo',
  tag: 'flow.lolo',
  source: { kind: 'limit', metric: 'flow', direction: 'below', limit: 6, deadband: 0.8 },
  onDelayMs: 0,
  offDelayMs: 0,
};

/** Feeds samples [at, value] and returns the changes, in order. */
function run(
  def: AlarmDefinition,
  samples: [number, number | string | boolean][],
  start = CONDITION_NORMAL,
) {
  let c: ConditionState = start;
  const changes: string[] = [];
  for (const [at, v] of samples) {
    const step = observe(def, c, v, at);
    c = step.condition;
    if (step.change) changes.push(`${step.change}@${at}`);
  }
  return { changes, condition: c };
}

describe('alarm condition', () => {
  it('on-delay: raised only when beyond the limit for the whole delay', () => {
    expect(
      run(hihi, [
        [0, -69],
        [10_000, -68],
        [30_000, -69.5],
      ]).changes,
    ).toEqual(['activate@30000']);
  });

  it('on-delay: a sample back inside restarts it (no chattering)', () => {
    expect(
      run(hihi, [
        [0, -69],
        [20_000, -72],
        [30_000, -69],
        [50_000, -69],
      ]).changes,
    ).toEqual([]);
  });

  it('a sample in the deadband also stops a pending activation', () => {
    expect(
      run(hihi, [
        [0, -69],
        [20_000, -70.5],
        [40_000, -69],
      ]).changes,
    ).toEqual([]);
  });

  it('exactly at the limit is not beyond it', () => {
    expect(run({ ...hihi, onDelayMs: 0 }, [[0, -70]]).changes).toEqual([]);
  });

  it('deadband: an active alarm stays active inside it, clears only past it', () => {
    const def = { ...hihi, onDelayMs: 0, offDelayMs: 0 };
    expect(
      run(def, [
        [0, -69],
        [1, -70.5],
        [2, -70.99],
        [3, -69.5],
        [4, -71.01],
      ]).changes,
    ).toEqual(['activate@0', 'clear@4']);
  });

  it('off-delay: returns to normal only after the whole delay back inside', () => {
    const active = { active: true };
    expect(
      run(
        hihi,
        [
          [0, -75],
          [29_000, -75],
          [30_000, -75],
        ],
        active,
      ).changes,
    ).toEqual(['clear@30000']);
    expect(
      run(
        hihi,
        [
          [0, -75],
          [20_000, -70.5],
          [40_000, -75],
        ],
        active,
      ).changes,
    ).toEqual([]);
  });

  it('below-limits mirror the deadband', () => {
    expect(
      run(lolo, [
        [0, 5.9],
        [1, 6.5],
        [2, 6.81],
      ]).changes,
    ).toEqual(['activate@0', 'clear@2']);
  });

  it('a tick after the delay settles a pending change without a new sample', () => {
    const step = observe(hihi, CONDITION_NORMAL, -60, 0);
    expect(step.condition).toEqual({ active: false, pendingSince: 0 });
    expect(tick(hihi, step.condition, 29_999).change).toBeUndefined();
    expect(tick(hihi, step.condition, 30_000)).toEqual({
      condition: { active: true },
      change: 'activate',
    });
    expect(tick(hihi, CONDITION_NORMAL, 99_000)).toEqual({ condition: CONDITION_NORMAL });
  });

  it('ignores values of the wrong type', () => {
    expect(run({ ...hihi, onDelayMs: 0 }, [[0, 'hot']]).changes).toEqual([]);
  });

  it('discrete: trips on one of its values, clears on any other', () => {
    const fault: AlarmDefinition = {
      ...hihi,
      source: { kind: 'discrete', metric: 'state', values: ['fault'] },
      onDelayMs: 0,
      offDelayMs: 0,
    };
    expect(
      run(fault, [
        [0, 'running'],
        [1, 'fault'],
        [2, 'fault'],
        [3, 'idle'],
      ]).changes,
    ).toEqual(['activate@1', 'clear@3']);
  });
});
