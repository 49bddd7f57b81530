import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  ASSET_COMMANDS,
  ASSET_TYPES,
  checkCommand,
  decodeCommandResult,
  DEFAULT_LIMITS,
  parseCommandMessage,
  parseTopic,
  type Channel,
  type CommandMessage,
  type CommandParamSpec,
  type ParsedTopic,
} from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { outdatedSchemas } from './generate.js';
import {
  ANNOTATION_KEYWORDS,
  COMMAND_SCHEMA_ID,
  commandSchema,
  generateSchemas,
  SCHEMA_DIALECT,
} from './schemas.js';
import { ContractValidator, isCatalogueViolation } from './validator.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const validator = new ContractValidator();

describe('generated schemas', () => {
  it('are what is committed in docs/schemas (run `npm run schemas` after changing the catalogue)', () => {
    expect(outdatedSchemas(ROOT)).toEqual([]);
  });

  it('are draft 2020-12, one per asset type plus status, event, generic telemetry, cmd and cmd_result, and compile', () => {
    const files = generateSchemas();
    expect(files.size).toBe(ASSET_TYPES.length + 5);
    expect(files.has('docs/schemas/cmd.schema.json')).toBe(true);
    expect(files.has('docs/schemas/cmd_result.schema.json')).toBe(true);
    for (const text of files.values())
      expect((JSON.parse(text) as { $schema: string }).$schema).toBe(SCHEMA_DIALECT);
    expect(() => validator.compileAll()).not.toThrow();
  });

  it('name every catalogue metric with its type, unit and range', () => {
    const cnc = JSON.parse(
      generateSchemas().get('docs/schemas/telemetry/cnc_machine.schema.json')!,
    ) as {
      $defs: { metrics: { properties: Record<string, Record<string, unknown>> } };
    };
    const metrics = cnc.$defs.metrics.properties;
    expect(Object.keys(metrics).sort()).toEqual(
      Object.keys(ASSET_TYPES.find((a) => a.id === 'cnc_machine')!.metrics).sort(),
    );
    expect(metrics['spindle_rpm']).toMatchObject({
      type: ['number', 'null'],
      minimum: 0,
      maximum: 30000,
      'x-unit': 'rotrpm',
      'x-kind': 'gauge',
    });
    expect(metrics['state']).toMatchObject({ enum: expect.arrayContaining(['running', null]) });
  });
});

const valid = (channel: Channel, assetType: string, payload: unknown) =>
  validator.validate(
    channel,
    assetType,
    typeof payload === 'string' ? payload : JSON.stringify(payload),
  );

describe('the schemas say what the ingestion does', () => {
  const now = 1764000000000;
  it.each([
    ['a single sample', { ts: now, seq: 1, metrics: { spindle_rpm: 100, state: 'idle' } }],
    ['an RFC 3339 ts', { ts: '2025-11-24T15:59:59.500+08:00', metrics: { spindle_rpm: 1 } }],
    ['no ts, null values', { metrics: { spindle_rpm: null, note: 'x' } }],
    [
      'a batch',
      {
        samples: [
          { ts: now, metrics: { spindle_rpm: 1 } },
          { ts: now + 1, metrics: { door_open: true } },
        ],
      },
    ],
    ['256 emoji in a string metric', { metrics: { note: '😀'.repeat(256) } }],
  ])('accepts %s', (_label, payload) => {
    expect(valid('telemetry', 'cnc_machine', payload)).toEqual({ valid: true, violations: [] });
  });

  it.each([
    ['seconds for ms', { ts: 1764000000, metrics: { spindle_rpm: 1 } }, 'minimum'],
    ['a misspelt key', { timestamp: now, metrics: { spindle_rpm: 1 } }, 'additionalProperties'],
    ['a reserved metric name', { metrics: { seq: 1 } }, 'propertyNames'],
    ['a bad metric name', { metrics: { 'Spindle RPM': 1 } }, 'propertyNames'],
    ['an empty batch', { samples: [] }, 'minItems'],
    [
      '1,001 samples',
      { samples: Array.from({ length: 1001 }, () => ({ metrics: { a: 1 } })) },
      'maxItems',
    ],
    ['a negative seq', { seq: -1, metrics: { a: 1 } }, 'minimum'],
    ['257 emoji', { metrics: { note: '😀'.repeat(257) } }, 'maxLength'],
    ['a newline in a string metric', { metrics: { note: 'a\nb' } }, 'pattern'],
    ['no metrics', { ts: now }, 'required'],
  ])('rejects %s', (_label, payload, keyword) => {
    const verdict = valid('telemetry', 'cnc_machine', payload);
    expect(verdict.valid).toBe(false);
    expect(verdict.violations.map((v) => v.keyword)).toContain(keyword);
    expect(verdict.violations.some(isCatalogueViolation)).toBe(false);
  });

  it('reports catalogue ranges and value sets as catalogue violations', () => {
    const verdict = valid('telemetry', 'cnc_machine', {
      samples: [{ metrics: { spindle_rpm: 99999 } }, { metrics: { state: 'exploding' } }],
    });
    expect(verdict.violations).toEqual([
      { path: '/samples/0/metrics/spindle_rpm', keyword: 'maximum', message: 'must be <= 30000' },
      {
        path: '/samples/1/metrics/state',
        keyword: 'enum',
        message: 'must be one of "running", "idle", "setup", "fault", "maintenance", null',
      },
    ]);
    expect(verdict.violations.every(isCatalogueViolation)).toBe(true);
  });

  it('takes status as plain text or JSON, and events with newlines but no bell', () => {
    expect(valid('status', 'cnc_machine', 'online').valid).toBe(true);
    expect(valid('status', 'cnc_machine', { ts: now, state: 'offline' }).valid).toBe(true);
    expect(valid('status', 'cnc_machine', 'gone').valid).toBe(false);
    const event = { code: 'E_TOOL', severity: 'warning' };
    expect(valid('event', 'cnc_machine', { ...event, message: 'line 1\nline 2\ttab' }).valid).toBe(
      true,
    );
    expect(valid('event', 'cnc_machine', { ...event, message: '🔥'.repeat(1024) }).valid).toBe(
      true,
    );
    expect(valid('event', 'cnc_machine', { ...event, message: '🔥'.repeat(1025) }).valid).toBe(
      false,
    );
    expect(valid('event', 'cnc_machine', { ...event, message: 'ring\u0007' }).valid).toBe(false);
    expect(valid('event', 'cnc_machine', { ...event, message: 'half \ud800' }).valid).toBe(false);
    expect(valid('event', 'cnc_machine', { ...event, severity: 'fatal' }).valid).toBe(false);
  });
});

const NOW = 1764000000000;
const command = (name: string, params: unknown): CommandMessage =>
  ({ id: 'c-42', name, params, expiresAt: NOW + 600_000, issuedAt: NOW }) as CommandMessage;

/** Parameter values around a parameter's rule: in and out of range, of the wrong type. */
function probeValues(p: CommandParamSpec): unknown[] {
  switch (p.kind) {
    case 'number':
      return [
        p.min,
        p.max,
        (p.min + p.max) / 2 + 0.25,
        p.min - 1,
        p.max + 0.001,
        String(p.min),
        null,
      ];
    case 'boolean':
      return [true, false, 'true', 1];
    case 'enum':
      return [...p.values, p.values[0]!.toUpperCase(), 'nope', 0];
  }
}

describe('the cmd schema says what the catalogue does', () => {
  const commands = Object.entries(ASSET_COMMANDS).flatMap(([assetType, byName]) =>
    Object.entries(byName).map(([name, spec]) => ({ assetType, name, spec })),
  );
  const goodParams = (params: Readonly<Record<string, CommandParamSpec>>) =>
    Object.fromEntries(Object.entries(params).map(([k, p]) => [k, probeValues(p)[0]]));

  it('has one entry per asset type and one params definition per command', () => {
    const cmd = commandSchema() as { $defs: Record<string, unknown> };
    for (const a of ASSET_TYPES) expect(cmd.$defs[a.id]).toBeDefined();
    for (const c of commands) expect(cmd.$defs[`${c.assetType}.${c.name}`]).toBeDefined();
    expect(cmd.$defs['bsl_laboratory.start_decontamination']).toMatchObject({
      required: ['duration_min'],
      properties: {
        duration_min: { type: 'integer', minimum: 30, maximum: 480, 'x-unit': 'm' },
      },
      additionalProperties: false,
    });
  });

  // Every probe is judged by checkCommand (what the operations service sends) and by the schema
  // for the asset type: they must agree.
  for (const { assetType, name, spec } of commands) {
    it(`${assetType} ${name}: agrees with checkCommand`, () => {
      const base = goodParams(spec.params);
      const probes: unknown[] = [base, { ...base, extra: 1 }];
      for (const [key, p] of Object.entries(spec.params)) {
        const { [key]: _dropped, ...without } = base;
        probes.push(without);
        for (const v of probeValues(p)) probes.push({ ...base, [key]: v });
      }
      for (const params of probes) {
        const expected = checkCommand(assetType, name, params).ok;
        const verdict = valid('cmd', assetType, command(name, params));
        expect(verdict.valid, `${JSON.stringify(params)}: ${JSON.stringify(verdict)}`).toBe(
          expected,
        );
      }
    });
  }

  it('refuses a command of another asset type, and any command to a type that has none', () => {
    expect(valid('cmd', 'street_light', command('dim', { level_pct: 40 })).valid).toBe(true);
    const verdict = valid('cmd', 'cnc_machine', command('dim', { level_pct: 40 }));
    expect(verdict.violations).toEqual([
      { path: '/name', keyword: 'enum', message: 'must be one of "stop", "start"' },
    ]);
    expect(checkCommand('energy_meter', 'stop', {}).ok).toBe(false);
    expect(valid('cmd', 'energy_meter', command('stop', {})).valid).toBe(false);
    // Of no asset type in particular: any command of the catalogue, with its own parameters.
    expect(valid('cmd', '', command('stop', {})).valid).toBe(true);
    expect(valid('cmd', '', command('dim', { level_pct: 101 })).valid).toBe(false);
    expect(valid('cmd', '', command('explode', {})).valid).toBe(false);
  });

  it('checks the envelope a device reads (parseCommandMessage)', () => {
    const good = command('set_mode', { mode: 'cooling' });
    expect(parseCommandMessage(JSON.stringify(good))).toEqual(good);
    expect(valid('cmd', 'building_hvac', good)).toEqual({ valid: true, violations: [] });
    const { issuedAt: _issuedAt, ...noIssuedAt } = good;
    for (const [payload, keyword] of [
      [{ ...good, id: 'c 42' }, 'pattern'],
      [{ ...good, id: 'c'.repeat(65) }, 'pattern'],
      [{ ...good, expiresAt: Math.floor(good.expiresAt / 1000) }, 'minimum'],
      [{ ...good, expiresAt: String(good.expiresAt) }, 'type'],
      [{ ...good, params: [] }, 'type'],
      [noIssuedAt, 'required'],
      [{ ...good, sentAt: NOW }, 'additionalProperties'],
    ] as const) {
      const verdict = valid('cmd', 'building_hvac', payload);
      expect(verdict.valid, JSON.stringify(payload)).toBe(false);
      expect(verdict.violations.map((v) => v.keyword)).toContain(keyword);
    }
  });

  it('accepts either definition of a command name two asset types define differently', () => {
    const schema = commandSchema({
      street_light: ASSET_COMMANDS['street_light']!,
      cnc_machine: { dim: ASSET_COMMANDS['street_light']!['switch']! },
    }) as { allOf: { if: { properties: { name: { const: string } } }; then: unknown }[] };
    const dim = schema.allOf.find((c) => c.if.properties.name.const === 'dim')!;
    expect(dim.then).toEqual({
      type: 'object',
      properties: {
        params: {
          anyOf: [{ $ref: '#/$defs/cnc_machine.dim' }, { $ref: '#/$defs/street_light.dim' }],
        },
      },
    });
    const ajv = new Ajv2020({ strict: true, unicodeRegExp: true });
    ajv.addVocabulary([...ANNOTATION_KEYWORDS]);
    ajv.addSchema(schema);
    const check = (ref: string, params: object) =>
      ajv.getSchema(`${COMMAND_SCHEMA_ID}${ref}`)!(command('dim', params));
    expect(check('', { on: true })).toBe(true);
    expect(check('', { level_pct: 40 })).toBe(true);
    expect(check('#/$defs/cnc_machine', { on: true })).toBe(true);
    expect(check('#/$defs/cnc_machine', { level_pct: 40 })).toBe(false);
    expect(check('#/$defs/street_light', { on: true })).toBe(false);
    expect(() => commandSchema({ no_such_type: {} })).toThrow(/unknown asset type/);
  });
});

describe('the cmd_result schema says what decodeCommandResult does', () => {
  const TOPIC: ParsedTopic = (() => {
    const parsed = parseTopic('parks/yuzhu/tower-a/building_hvac/ahu-3/cmd_result');
    if (!parsed.ok) throw new Error(parsed.error.message);
    return parsed.value;
  })();
  const ctx = { receivedAt: NOW, limits: DEFAULT_LIMITS };
  const id = 'c-42';
  const done = { id, status: 'done' };
  const probes: [string, unknown][] = [
    ['accepted', { id, status: 'accepted' }],
    ['done with a result and ts', { ...done, result: { dimming_pct: 40 }, ts: NOW + 1200 }],
    [
      'rejected with a reason and message',
      { id, status: 'rejected', reason: 'lamp_fault', message: 'the lamp is faulted' },
    ],
    ['nulls', { id, status: 'failed', result: null, reason: null, message: null, ts: null }],
    ['empty result and reason', { ...done, result: {}, reason: '', message: '' }],
    ['plain values', { ...done, result: { state: 'idle', on: true, n: -1.5, big: 1e300 } }],
    ['a 64-character id', { ...done, id: 'x'.repeat(64) }],
    ['a 65-character id', { ...done, id: 'x'.repeat(65) }],
    ['an id with a space', { ...done, id: 'c 42' }],
    ['a numeric id', { ...done, id: 42 }],
    ['no id', { status: 'done' }],
    ['status ok', { id, status: 'ok' }],
    ['status DONE', { id, status: 'DONE' }],
    ['no status', { id }],
    ['256 emoji in a result string', { ...done, result: { note: '😀'.repeat(256) } }],
    ['257 emoji in a result string', { ...done, result: { note: '😀'.repeat(257) } }],
    ['a tab in a result string', { ...done, result: { note: 'a\tb' } }],
    ['DEL in a result string', { ...done, result: { note: 'a\u007f' } }],
    ['C1 in a result string', { ...done, result: { note: 'a\u0085' } }],
    ['a result name in capitals', { ...done, result: { State: 'idle' } }],
    ['a reserved-looking result name', { ...done, result: { ts: 1 } }],
    ['a null result value', { ...done, result: { a: null } }],
    ['an array result value', { ...done, result: { a: [1] } }],
    ['a nested result', { ...done, result: { a: { b: 1 } } }],
    ['an array result', { ...done, result: [1] }],
    ['a string result', { ...done, result: 'ok' }],
    ['a 64-character reason', { ...done, reason: 'a'.repeat(64) }],
    ['a 65-character reason', { ...done, reason: 'a'.repeat(65) }],
    ['a reason with a space', { ...done, reason: 'lamp fault' }],
    ['a numeric reason', { ...done, reason: 1 }],
    ['a message with lines', { ...done, message: 'line 1\nline 2\r\n\ttabbed' }],
    ['512 emoji in the message', { ...done, message: '🔥'.repeat(512) }],
    ['513 emoji in the message', { ...done, message: '🔥'.repeat(513) }],
    ['513 letters in the message', { ...done, message: 'x'.repeat(513) }],
    ['BEL in the message', { ...done, message: 'ring\u0007' }],
    ['DEL in the message', { ...done, message: 'a\u007f' }],
    ['C1 in the message', { ...done, message: 'a\u0085' }],
    ['an unpaired surrogate in the message', { ...done, message: 'half \ud800' }],
    ['a numeric message', { ...done, message: 1 }],
    ['ts in seconds (the receive time is kept)', { ...done, ts: Math.floor(NOW / 1000) }],
    ['ts an hour ahead (the receive time is kept)', { ...done, ts: NOW + 3_600_000 }],
    ['ts with a fraction', { ...done, ts: NOW + 0.5 }],
    ['ts 0', { ...done, ts: 0 }],
    ['ts negative', { ...done, ts: -1 }],
    ['ts RFC 3339', { ...done, ts: '2025-11-24T15:59:59.500+08:00' }],
    ['ts as words', { ...done, ts: 'yesterday' }],
    ['ts true', { ...done, ts: true }],
    ['an array', [done]],
    ['a string', 'done'],
    ['null', null],
  ];

  it.each(probes)('%s: the schema and the decoder agree', (_label, payload) => {
    const bytes = Buffer.from(JSON.stringify(payload));
    const decoded = decodeCommandResult(TOPIC, bytes, ctx);
    const verdict = validator.validate('cmd_result', 'building_hvac', bytes);
    expect(verdict.valid, JSON.stringify({ decoded, verdict })).toBe(decoded.ok);
  });

  it('probes both sides of every rule', () => {
    const outcomes = probes.map(([, payload]) =>
      validator.validateValue('cmd_result', 'building_hvac', payload).valid ? 'pass' : 'fail',
    );
    expect(outcomes.filter((o) => o === 'pass').length).toBeGreaterThanOrEqual(15);
    expect(outcomes.filter((o) => o === 'fail').length).toBeGreaterThanOrEqual(15);
  });

  it('is stricter than the decoder only on unknown keys', () => {
    const misspelt = { id, status: 'done', timestamp: NOW };
    expect(decodeCommandResult(TOPIC, Buffer.from(JSON.stringify(misspelt)), ctx).ok).toBe(true);
    expect(valid('cmd_result', 'building_hvac', misspelt).violations).toEqual([
      { path: '', keyword: 'additionalProperties', message: 'unknown key "timestamp"' },
    ]);
  });
});

/**
 * The golden cases of libs/influx/testdata: a case the ingestion stores without dropping a field
 * must pass its schema; a dead letter or a dropped field must fail it, except where the rule
 * broken is not the payload's (the topic) or cannot be said by a schema (the ts window).
 */
describe('golden fixtures against the schemas', () => {
  const TESTDATA = join(ROOT, 'libs/influx/testdata');
  /** Cases whose payload is fine: the topic is wrong, or the window (relative to receive time). */
  const PAYLOAD_OK_ANYWAY: Record<string, string> = {
    'err-asset-type-not-in-park': 'topic: the asset type is not in that park',
    'err-device-with-comma': 'topic: the device id',
    'err-unknown-park': 'topic: the park',
    'err-future-timestamp': 'the ts window is relative to the receive time',
  };
  const cases = readdirSync(TESTDATA).sort();

  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(15));
  it('has command results among them', () => {
    const channels = cases.map((name) =>
      readFileSync(join(TESTDATA, name, 'topic'), 'utf8')
        .trim()
        .split('/')
        .at(-1),
    );
    expect(channels.filter((c) => c === 'cmd_result').length).toBeGreaterThanOrEqual(2);
  });

  for (const name of cases) {
    it(name, () => {
      const dir = join(TESTDATA, name);
      const [, , , assetType = '', , channel = ''] = readFileSync(join(dir, 'topic'), 'utf8')
        .trim()
        .split('/');
      const verdict = validator.validate(
        channel as Channel,
        assetType,
        readFileSync(join(dir, 'input')),
      );
      const lp = join(dir, 'expected.lp');
      const storedWhole = existsSync(lp) && !readFileSync(lp, 'utf8').includes('# dropped');
      const shouldPass = storedWhole || name in PAYLOAD_OK_ANYWAY;
      expect(verdict.valid, JSON.stringify(verdict.violations)).toBe(shouldPass);
    });
  }
});
