import { describe, expect, it } from 'vitest';
import { parseParams } from './cli.js';

describe('parkpulse-ops parameters', () => {
  it('types numbers and booleans, keeps other text', () => {
    expect(parseParams(['level_pct=30', 'on=true', 'mode=cooling', 'setpoint_c=-70.5'])).toEqual({
      level_pct: 30,
      on: true,
      mode: 'cooling',
      setpoint_c: -70.5,
    });
  });
  it('refuses a parameter without a value', () => {
    expect(() => parseParams(['level_pct'])).toThrow('must be key=value');
  });
});
