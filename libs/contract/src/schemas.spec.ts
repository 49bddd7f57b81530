import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ASSET_TYPES, type UpChannel } from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { outdatedSchemas } from './generate.js';
import { generateSchemas, SCHEMA_DIALECT } from './schemas.js';
import { ContractValidator, isCatalogueViolation } from './validator.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const validator = new ContractValidator();

describe('generated schemas', () => {
  it('are what is committed in docs/schemas (run `npm run schemas` after changing the catalogue)', () => {
    expect(outdatedSchemas(ROOT)).toEqual([]);
  });

  it('are draft 2020-12, one per asset type plus status, event and generic telemetry, and compile', () => {
    const files = generateSchemas();
    expect(files.size).toBe(ASSET_TYPES.length + 3);
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

const valid = (channel: UpChannel, assetType: string, payload: unknown) =>
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
    expect(valid('event', 'cnc_machine', { ...event, severity: 'fatal' }).valid).toBe(false);
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

  for (const name of cases) {
    const [, , , , , caseChannel = ''] = readFileSync(join(TESTDATA, name, 'topic'), 'utf8')
      .trim()
      .split('/');
    // Command results have the operations service's schema (libs/commands), not this one.
    if (caseChannel === 'cmd_result') continue;
    it(name, () => {
      const dir = join(TESTDATA, name);
      const [, , , assetType = '', , channel = ''] = readFileSync(join(dir, 'topic'), 'utf8')
        .trim()
        .split('/');
      const verdict = validator.validate(
        channel as UpChannel,
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
