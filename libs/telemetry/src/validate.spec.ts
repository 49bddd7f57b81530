import { describe, expect, it } from 'vitest';
import { getAssetType, type AssetTypeSpec } from './catalogue/index.js';
import { DEFAULT_LIMITS } from './limits.js';
import type { FieldDrop, RawSample, Sample } from './model.js';
import { validateSample } from './validate.js';

const TS = Date.UTC(2026, 0, 1);

function asset(id: string): AssetTypeSpec {
  const spec = getAssetType(id);
  if (!spec) throw new Error(`no asset type ${id}`);
  return spec;
}

const CNC = asset('cnc_machine');

function raw(metrics: Record<string, unknown>, seq?: number): RawSample {
  return seq === undefined
    ? { ts: TS, tsFromDevice: true, metrics }
    : { ts: TS, tsFromDevice: true, seq, metrics };
}

/** Validates metrics as if they came from JSON (so `__proto__` is an own key, as JSON.parse makes it). */
function run(
  metrics: Record<string, unknown> | string,
  spec: AssetTypeSpec = CNC,
): { sample: Sample; dropped: FieldDrop[] } {
  const parsed =
    typeof metrics === 'string' ? (JSON.parse(metrics) as Record<string, unknown>) : metrics;
  const dropped: FieldDrop[] = [];
  const result = validateSample(spec, raw(parsed), DEFAULT_LIMITS, dropped);
  if (!result.ok) throw new Error(`expected a sample, got ${result.error.message}`);
  return { sample: result.value, dropped };
}

function invalid(metrics: Record<string, unknown> | string, spec: AssetTypeSpec = CNC) {
  const parsed =
    typeof metrics === 'string' ? (JSON.parse(metrics) as Record<string, unknown>) : metrics;
  const dropped: FieldDrop[] = [];
  const result = validateSample(spec, raw(parsed), DEFAULT_LIMITS, dropped);
  if (result.ok) throw new Error('expected a rejection, got a sample');
  return { reason: result.error.reason, detail: result.error.detail, dropped };
}

describe('validateSample: typing', () => {
  it('keeps numbers as numbers, integers included', () => {
    const { sample, dropped } = run({ spindle_rpm: 11850, temperature_c: 41.2, part_count: 0 });
    expect(sample.fields).toEqual({ spindle_rpm: 11850, temperature_c: 41.2, part_count: 0 });
    for (const v of Object.values(sample.fields)) expect(typeof v).toBe('number');
    expect(dropped).toEqual([]);
  });

  it('keeps booleans and enum strings', () => {
    const { sample } = run({ door_open: false, state: 'running' });
    expect(sample.fields).toEqual({ door_open: false, state: 'running' });
  });

  it('skips null silently', () => {
    const { sample, dropped } = run({ spindle_rpm: null, door_open: true, unknown_thing: null });
    expect(sample.fields).toEqual({ door_open: true });
    expect('spindle_rpm' in sample.fields).toBe(false);
    expect(dropped).toEqual([]);
  });

  it('keeps ts and seq of the raw sample', () => {
    const dropped: FieldDrop[] = [];
    const withSeq = validateSample(CNC, raw({ spindle_rpm: 1 }, 1042), DEFAULT_LIMITS, dropped);
    expect(withSeq).toEqual({ ok: true, value: { ts: TS, seq: 1042, fields: { spindle_rpm: 1 } } });
    const withoutSeq = validateSample(CNC, raw({ spindle_rpm: 1 }), DEFAULT_LIMITS, dropped);
    expect(withoutSeq).toEqual({ ok: true, value: { ts: TS, fields: { spindle_rpm: 1 } } });
    expect(withoutSeq.ok && 'seq' in withoutSeq.value).toBe(false);
  });

  it('returns an empty field set for empty metrics', () => {
    expect(run({}).sample.fields).toEqual({});
  });

  it('appends to the dropped list it is given', () => {
    const dropped: FieldDrop[] = [{ metric: 'earlier', reason: 'wrong_type', detail: 'x' }];
    validateSample(CNC, raw({ door_open: 1 }), DEFAULT_LIMITS, dropped);
    expect(dropped.map((d) => d.metric)).toEqual(['earlier', 'door_open']);
  });
});

describe('validateSample: catalogue checks', () => {
  it.each([
    ['a string for a gauge', 'spindle_rpm', '11850', 'expected a number, got string'],
    ['a boolean for a gauge', 'spindle_rpm', true, 'expected a number, got boolean'],
    ['an array for a gauge', 'spindle_rpm', [1], 'expected a number, got array'],
    ['an object for a counter', 'part_count', { v: 1 }, 'expected a number, got object'],
    ['a number for a boolean', 'door_open', 1, 'expected a boolean, got number'],
    ['a string for a boolean', 'door_open', 'true', 'expected a boolean, got string'],
    ['a number for an enum', 'state', 1, 'expected a string, got number'],
  ])('drops %s as wrong_type', (_label, metric, value, detail) => {
    const { sample, dropped } = run({ [metric]: value, power_kw: 10 });
    expect(sample.fields).toEqual({ power_kw: 10 });
    expect(dropped).toEqual([{ metric, reason: 'wrong_type', detail }]);
  });

  it('accepts values exactly at min and max', () => {
    const { sample, dropped } = run({ spindle_rpm: 0, temperature_c: 150 });
    expect(sample.fields).toEqual({ spindle_rpm: 0, temperature_c: 150 });
    expect(dropped).toEqual([]);
    expect(run({ temperature_c: -20 }).sample.fields).toEqual({ temperature_c: -20 });
    expect(run({ spindle_rpm: 30000 }).sample.fields).toEqual({ spindle_rpm: 30000 });
  });

  it.each([
    ['above max', 'spindle_rpm', 30000.5, '30000.5 outside [0, 30000] rotrpm'],
    ['below min', 'spindle_rpm', -1, '-1 outside [0, 30000] rotrpm'],
    ['below a negative min', 'temperature_c', -20.1, '-20.1 outside [-20, 150] celsius'],
    ['below the min of a counter without max', 'part_count', -1, '-1 outside [0, ∞] short'],
  ])('drops a value %s as out_of_range', (_label, metric, value, detail) => {
    const { sample, dropped } = run({ [metric]: value });
    expect(sample.fields).toEqual({});
    expect(dropped).toEqual([{ metric, reason: 'out_of_range', detail }]);
  });

  it('accepts any large counter value (no max)', () => {
    expect(run({ part_count: 1e15 }).sample.fields).toEqual({ part_count: 1e15 });
  });

  it('drops a value outside the enum as not_in_enum', () => {
    const { dropped } = run({ state: 'exploded' });
    expect(dropped).toEqual([
      {
        metric: 'state',
        reason: 'not_in_enum',
        detail: '"exploded" is not one of running, idle, setup, fault, maintenance',
      },
    ]);
  });

  it('is case-sensitive for enum values', () => {
    expect(run({ state: 'Running' }).dropped[0]?.reason).toBe('not_in_enum');
  });

  it.each(['1e999', '-1e999'])('drops %s (Infinity after JSON.parse) as not_finite', (literal) => {
    const { sample, dropped } = run(`{"spindle_rpm": ${literal}, "door_open": true}`);
    expect(sample.fields).toEqual({ door_open: true });
    expect(dropped).toEqual([
      { metric: 'spindle_rpm', reason: 'not_finite', detail: `${Number(literal)} is not finite` },
    ]);
  });

  it('drops NaN as not_finite', () => {
    expect(run({ spindle_rpm: Number.NaN }).dropped).toEqual([
      { metric: 'spindle_rpm', reason: 'not_finite', detail: 'NaN is not finite' },
    ]);
  });

  it('checks the same metric name against the asset type it belongs to', () => {
    // temperature_c is [-20, 150] on a CNC machine but [-50, 70] on an environment sensor.
    expect(run({ temperature_c: 100 }).dropped).toEqual([]);
    expect(run({ temperature_c: 100 }, asset('environment_sensor')).dropped).toEqual([
      { metric: 'temperature_c', reason: 'out_of_range', detail: '100 outside [-50, 70] celsius' },
    ]);
  });
});

describe('validateSample: metrics the catalogue does not know', () => {
  it('types them generically', () => {
    const { sample, dropped } = run({
      extra_count: 3,
      extra_ratio: 0.5,
      extra_flag: true,
      extra_note: 'ok',
    });
    expect(sample.fields).toEqual({
      extra_count: 3,
      extra_ratio: 0.5,
      extra_flag: true,
      extra_note: 'ok',
    });
    expect(dropped).toEqual([]);
  });

  it('drops objects and arrays as wrong_type', () => {
    expect(run({ extra_obj: { a: 1 }, extra_arr: [1, 2] }).dropped).toEqual([
      {
        metric: 'extra_obj',
        reason: 'wrong_type',
        detail: 'object is not a number, boolean or string',
      },
      {
        metric: 'extra_arr',
        reason: 'wrong_type',
        detail: 'array is not a number, boolean or string',
      },
    ]);
  });

  it('drops an infinite number as not_finite', () => {
    expect(run('{"extra_big": 1e999}').dropped).toEqual([
      { metric: 'extra_big', reason: 'not_finite', detail: 'Infinity is not finite' },
    ]);
  });

  it('keeps a string of exactly maxStringLength and drops one character more', () => {
    const { sample, dropped } = run({ note_ok: 'a'.repeat(256), note_long: 'a'.repeat(257) });
    expect(sample.fields).toEqual({ note_ok: 'a'.repeat(256) });
    expect(dropped).toEqual([
      {
        metric: 'note_long',
        reason: 'string_too_long',
        detail: '257 characters (Unicode code points), at most 256',
      },
    ]);
  });

  it('counts characters as Unicode code points: 256 emoji pass, 257 do not', () => {
    const { sample, dropped } = run({ note_ok: '😀'.repeat(256), note_long: '😀'.repeat(257) });
    expect(sample.fields).toEqual({ note_ok: '😀'.repeat(256) });
    expect(dropped).toEqual([
      {
        metric: 'note_long',
        reason: 'string_too_long',
        detail: '257 characters (Unicode code points), at most 256',
      },
    ]);
  });

  it('honours a configured maxStringLength', () => {
    const dropped: FieldDrop[] = [];
    validateSample(CNC, raw({ note: 'abcd' }), { ...DEFAULT_LIMITS, maxStringLength: 3 }, dropped);
    expect(dropped).toEqual([
      {
        metric: 'note',
        reason: 'string_too_long',
        detail: '4 characters (Unicode code points), at most 3',
      },
    ]);
  });

  it.each([
    ['a newline (a second line-protocol line)', 'a\nb'],
    ['a carriage return', 'a\rb'],
    ['a tab', 'a\tb'],
    ['NUL', 'a\u0000b'],
    ['ESC', '\u001b[31m'],
    ['DEL', 'a\u007fb'],
  ])('drops a string with %s as control_characters', (_label, value) => {
    const { sample, dropped } = run({ note: value });
    expect(sample.fields).toEqual({});
    expect(dropped).toEqual([
      {
        metric: 'note',
        reason: 'control_characters',
        detail: 'string values must not contain control characters (U+0000–U+001F, U+007F)',
      },
    ]);
  });

  it('keeps strings with quotes, backslashes, commas, spaces and equals signs', () => {
    const note = 'a "b", c=d \\ e';
    expect(run({ note }).sample.fields).toEqual({ note });
  });
});

describe('validateSample: metric names', () => {
  it.each([
    ['upper case', 'Spindle_rpm'],
    ['a leading digit', '1st_stage'],
    ['a leading underscore', '_hidden'],
    ['a hyphen', 'spindle-rpm'],
    ['a dot', 'spindle.rpm'],
    ['a space', 'spindle rpm'],
    ['64 characters', 'm'.repeat(64)],
    ['the empty name', ''],
  ])('rejects a name with %s', (_label, name) => {
    const { reason, detail } = invalid({ [name]: 1 });
    expect(reason).toBe('metric_name_invalid');
    expect(detail).toBe(`metric name "${name}" must match ^[a-z][a-z0-9_]{0,62}$`);
  });

  it('accepts a 63-character name and a one-letter name', () => {
    const long = 'm'.repeat(63);
    expect(run({ [long]: 1, x: 2 }).sample.fields).toEqual({ [long]: 1, x: 2 });
  });

  it('shortens a very long invalid name in the detail', () => {
    const { detail } = invalid({ ['M'.repeat(500)]: 1 });
    expect(detail).toBe(`metric name "${'M'.repeat(70)}" must match ^[a-z][a-z0-9_]{0,62}$`);
  });

  it.each(['seq', 'ts', 'time'])('rejects the reserved name %s', (name) => {
    const { reason, detail } = invalid({ spindle_rpm: 1, [name]: 1 });
    expect(reason).toBe('metric_name_invalid');
    expect(detail).toBe(`"${name}" is reserved by the contract`);
  });

  it('rejects a bad name even when its value is null or other fields are fine', () => {
    expect(invalid({ spindle_rpm: 1, BadName: null }).reason).toBe('metric_name_invalid');
  });
});

describe('validateSample: prototype pitfalls', () => {
  it('rejects __proto__ (an own key after JSON.parse) by the name rule', () => {
    const { reason, detail } = invalid('{"spindle_rpm": 1, "__proto__": {"polluted": true}}');
    expect(reason).toBe('metric_name_invalid');
    expect(detail).toBe('metric name "__proto__" must match ^[a-z][a-z0-9_]{0,62}$');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('returns fields with no inherited keys', () => {
    const { sample } = run({ spindle_rpm: 1 });
    expect(Object.keys(sample.fields)).toEqual(['spindle_rpm']);
    expect(Object.getPrototypeOf(sample.fields)).toBe(Object.prototype);
  });

  it.each(['hasownproperty', 'valueof', 'tostring', 'prototype'])(
    'types the ordinary name %s generically',
    (name) => {
      const { sample, dropped } = run(`{"${name}": 5}`);
      expect(sample.fields).toEqual({ [name]: 5 });
      expect(Object.hasOwn(sample.fields, name)).toBe(true);
      expect(dropped).toEqual([]);
    },
  );

  it('types a metric named "constructor" generically, as an unknown metric', () => {
    const { sample, dropped } = run('{"constructor": 5}');
    expect(sample.fields).toEqual({ constructor: 5 });
    expect(Object.hasOwn(sample.fields, 'constructor')).toBe(true);
    expect(sample.fields['constructor']).toBe(5);
    expect(dropped).toEqual([]);
  });

  it('returns only number, boolean and string values for catalogue and unknown metrics', () => {
    const { sample } = run('{"spindle_rpm": 1, "door_open": true, "state": "idle", "note": "x"}');
    for (const v of Object.values(sample.fields))
      expect(['number', 'boolean', 'string']).toContain(typeof v);
  });
});
