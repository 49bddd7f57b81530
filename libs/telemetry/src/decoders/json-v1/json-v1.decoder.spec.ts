import { describe, expect, it } from 'vitest';
import type { Result } from '../../errors.js';
import { DEFAULT_LIMITS } from '../../limits.js';
import type { RawSample } from '../../model.js';
import type { DecodeContext } from '../decoder.js';
import { jsonV1Decoder } from './json-v1.decoder.js';

const NOW = Date.UTC(2026, 0, 1);
const CTX: DecodeContext = { receivedAt: NOW, limits: DEFAULT_LIMITS };

function decode(payload: string | Buffer | object, ctx: DecodeContext = CTX): Result<RawSample[]> {
  const bytes =
    typeof payload === 'string'
      ? Buffer.from(payload, 'utf8')
      : Buffer.isBuffer(payload)
        ? payload
        : Buffer.from(JSON.stringify(payload), 'utf8');
  return jsonV1Decoder.decode(bytes, ctx);
}

function samples(payload: string | Buffer | object, ctx: DecodeContext = CTX): RawSample[] {
  const result = decode(payload, ctx);
  if (!result.ok) throw new Error(`expected samples, got ${result.error.message}`);
  return result.value;
}

function rejection(payload: string | Buffer | object, ctx: DecodeContext = CTX) {
  const result = decode(payload, ctx);
  if (result.ok) throw new Error('expected a rejection, got samples');
  return { reason: result.error.reason, detail: result.error.detail };
}

describe('jsonV1Decoder', () => {
  it('is named json-v1', () => {
    expect(jsonV1Decoder.name).toBe('json-v1');
  });

  it('decodes a single sample', () => {
    const payload = {
      ts: NOW - 1000,
      seq: 1042,
      metrics: { spindle_rpm: 11850, temperature_c: 41.2, state: 'running', door_open: false },
    };
    expect(samples(payload)).toEqual([
      {
        ts: NOW - 1000,
        tsFromDevice: true,
        seq: 1042,
        metrics: { spindle_rpm: 11850, temperature_c: 41.2, state: 'running', door_open: false },
      },
    ]);
  });

  it('leaves metric values for validateSample to judge', () => {
    const [sample] = samples('{"metrics": {"Bad Name": [1], "x": null, "y": {"z": 1}}}');
    expect(sample?.metrics).toEqual({ 'Bad Name': [1], x: null, y: { z: 1 } });
  });

  it('decodes a batch in order', () => {
    const payload = {
      samples: [
        { ts: NOW - 2000, metrics: { spindle_rpm: 1 } },
        { ts: '2025-12-31T23:59:59.000Z', seq: 7, metrics: { spindle_rpm: 2 } },
      ],
    };
    expect(samples(payload)).toEqual([
      { ts: NOW - 2000, tsFromDevice: true, metrics: { spindle_rpm: 1 } },
      { ts: NOW - 1000, tsFromDevice: true, seq: 7, metrics: { spindle_rpm: 2 } },
    ]);
  });

  it.each([
    ['missing', { metrics: { a: 1 } }],
    ['null', { ts: null, metrics: { a: 1 } }],
  ])('uses receivedAt when ts is %s, with tsFromDevice false', (_label, payload) => {
    expect(samples(payload)).toEqual([{ ts: NOW, tsFromDevice: false, metrics: { a: 1 } }]);
  });

  it('floors fractional epoch milliseconds', () => {
    expect(samples({ ts: NOW - 0.5, metrics: { a: 1 } })[0]?.ts).toBe(NOW - 1);
  });

  it('accepts RFC 3339 with an offset', () => {
    expect(samples({ ts: '2026-01-01T07:59:00+08:00', metrics: { a: 1 } })[0]?.ts).toBe(
      NOW - 60_000,
    );
  });

  it('accepts a UTF-8 byte order mark and multi-byte text', () => {
    const payload = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('{"metrics": {"note": "温度 ✓"}}', 'utf8'),
    ]);
    expect(samples(payload)[0]?.metrics).toEqual({ note: '温度 ✓' });
  });

  describe('timestamps', () => {
    it('rejects an invalid ts', () => {
      expect(rejection({ ts: 'yesterday', metrics: { a: 1 } })).toEqual({
        reason: 'timestamp_invalid',
        detail: 'ts "yesterday" is not RFC 3339',
      });
      expect(rejection({ ts: true, metrics: { a: 1 } }).reason).toBe('timestamp_invalid');
      expect(rejection({ ts: -5, metrics: { a: 1 } }).reason).toBe('timestamp_invalid');
    });

    it('accepts the window edges and rejects 1 ms beyond', () => {
      const { maxPastMs, maxFutureMs } = DEFAULT_LIMITS;
      expect(samples({ ts: NOW - maxPastMs, metrics: { a: 1 } })[0]?.ts).toBe(NOW - maxPastMs);
      expect(samples({ ts: NOW + maxFutureMs, metrics: { a: 1 } })[0]?.ts).toBe(NOW + maxFutureMs);
      expect(rejection({ ts: NOW - maxPastMs - 1, metrics: { a: 1 } }).reason).toBe(
        'timestamp_out_of_window',
      );
      expect(rejection({ ts: NOW + maxFutureMs + 1, metrics: { a: 1 } }).reason).toBe(
        'timestamp_out_of_window',
      );
    });

    it('hints at seconds sent instead of milliseconds', () => {
      const { reason, detail } = rejection({ ts: NOW / 1000, metrics: { a: 1 } });
      expect(reason).toBe('timestamp_out_of_window');
      expect(detail).toContain('(it looks like seconds; the contract wants milliseconds)');
    });

    it('rejects the whole batch when one sample is out of the window', () => {
      const { reason } = rejection({
        samples: [
          { ts: NOW, metrics: { a: 1 } },
          { ts: NOW + 3_600_000, metrics: { a: 2 } },
        ],
      });
      expect(reason).toBe('timestamp_out_of_window');
    });
  });

  describe('seq', () => {
    it.each([0, 1, Number.MAX_SAFE_INTEGER])('accepts %d', (seq) => {
      expect(samples({ seq, metrics: { a: 1 } })[0]?.seq).toBe(seq);
    });

    it('treats a null seq as absent', () => {
      const [sample] = samples({ seq: null, metrics: { a: 1 } });
      expect(sample).toEqual({ ts: NOW, tsFromDevice: false, metrics: { a: 1 } });
      expect(sample && 'seq' in sample).toBe(false);
    });

    it.each([
      ['negative', -1],
      ['fractional', 1.5],
      ['a string', '1'],
      ['a boolean', true],
      ['beyond the safe integers', 2 ** 53],
    ])('rejects a %s seq', (_label, seq) => {
      expect(rejection({ seq, metrics: { a: 1 } })).toEqual({
        reason: 'payload_invalid',
        detail: 'payload.seq must be a non-negative integer',
      });
    });

    it('names the batch index of a bad seq', () => {
      expect(
        rejection({
          samples: [
            { seq: 1, metrics: { a: 1 } },
            { seq: -1, metrics: { a: 1 } },
          ],
        }),
      ).toEqual({
        reason: 'payload_invalid',
        detail: 'samples[1].seq must be a non-negative integer',
      });
    });
  });

  describe('batch limits', () => {
    const batch = (n: number) => ({
      samples: Array.from({ length: n }, (_, i) => ({
        ts: NOW - n + i,
        seq: i,
        metrics: { a: i },
      })),
    });

    it('accepts exactly maxBatchSamples', () => {
      const out = samples(batch(DEFAULT_LIMITS.maxBatchSamples));
      expect(out).toHaveLength(1000);
      expect(out[999]).toEqual({ ts: NOW - 1, tsFromDevice: true, seq: 999, metrics: { a: 999 } });
    });

    it('rejects maxBatchSamples + 1 as batch_too_large', () => {
      expect(rejection(batch(DEFAULT_LIMITS.maxBatchSamples + 1))).toEqual({
        reason: 'batch_too_large',
        detail: '1001 samples, at most 1000 per message',
      });
    });

    it('honours a configured maxBatchSamples', () => {
      const ctx = { receivedAt: NOW, limits: { ...DEFAULT_LIMITS, maxBatchSamples: 2 } };
      expect(samples(batch(2), ctx)).toHaveLength(2);
      expect(rejection(batch(3), ctx).reason).toBe('batch_too_large');
    });

    it.each([
      ['an empty array', { samples: [] }],
      ['null', { samples: null }],
      ['an object', { samples: { ts: NOW, metrics: { a: 1 } } }],
    ])('rejects samples that is %s', (_label, payload) => {
      expect(rejection(payload)).toEqual({
        reason: 'payload_invalid',
        detail: '"samples" must be a non-empty array',
      });
    });

    it('rejects a batch entry that is not an object, naming its index', () => {
      expect(rejection({ samples: [{ metrics: { a: 1 } }, 42] })).toEqual({
        reason: 'payload_invalid',
        detail: 'samples[1] must be an object',
      });
    });

    it('rejects a batch entry without metrics, naming its index', () => {
      expect(rejection({ samples: [{ ts: NOW }] })).toEqual({
        reason: 'payload_invalid',
        detail: 'samples[0].metrics must be an object',
      });
    });
  });

  describe('envelope', () => {
    it.each([
      ['an array', '[{"metrics": {"a": 1}}]'],
      ['a number', '42'],
      ['a string', '"online"'],
      ['null', 'null'],
      ['true', 'true'],
    ])('rejects %s as payload_invalid', (_label, payload) => {
      expect(rejection(payload)).toEqual({
        reason: 'payload_invalid',
        detail: 'payload must be a JSON object',
      });
    });

    it.each([
      ['missing', { ts: NOW }],
      ['null', { metrics: null }],
      ['an array', { metrics: [1, 2] }],
      ['a number', { metrics: 5 }],
    ])('rejects metrics that is %s', (_label, payload) => {
      expect(rejection(payload)).toEqual({
        reason: 'payload_invalid',
        detail: 'payload.metrics must be an object',
      });
    });

    it.each([
      ['a lone continuation byte', Buffer.from([0x7b, 0x80, 0x7d])],
      ['an overlong encoding', Buffer.from([0xc0, 0xaf])],
      ['a truncated sequence', Buffer.from([0x7b, 0xe2, 0x82])],
      ['Latin-1 text', Buffer.from('{"metrics": {"note": "café"}}', 'latin1')],
    ])('rejects %s as payload_not_utf8', (_label, payload) => {
      expect(rejection(payload)).toEqual({
        reason: 'payload_not_utf8',
        detail: 'payload is not valid UTF-8',
      });
    });

    it.each([
      ['a NaN literal', '{"metrics": {"a": NaN}}'],
      ['an Infinity literal', '{"metrics": {"a": Infinity}}'],
      ['a trailing comma', '{"metrics": {"a": 1},}'],
      ['single quotes', "{'metrics': {}}"],
      ['truncated JSON', '{"metrics": {"a": 1'],
      ['the empty payload', ''],
      ['two documents', '{"metrics": {}}{"metrics": {}}'],
    ])('rejects %s as payload_not_json', (_label, payload) => {
      const { reason, detail } = rejection(payload);
      expect(reason).toBe('payload_not_json');
      expect(detail.length).toBeGreaterThan(0);
    });
  });
});
