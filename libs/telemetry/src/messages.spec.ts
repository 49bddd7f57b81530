import { describe, expect, it } from 'vitest';
import type { DecodeContext, PayloadDecoder } from './decoders/decoder.js';
import { ok } from './errors.js';
import { DEFAULT_LIMITS } from './limits.js';
import { decodeEvent, decodeStatus, decodeTelemetry } from './messages.js';
import { parseTopic, type ParsedTopic } from './topic.js';
import { bytes, rejection, value } from '../test/results.js';

const NOW = Date.UTC(2026, 0, 1);
const CTX: DecodeContext = { receivedAt: NOW, limits: DEFAULT_LIMITS };

function topic(channel: 'telemetry' | 'status' | 'event'): ParsedTopic {
  const result = parseTopic(`parks/science-city/plant-a/cnc_machine/cnc-01/${channel}`);
  if (!result.ok) throw result.error;
  return result.value;
}

const TELEMETRY = topic('telemetry');
const STATUS = topic('status');
const EVENT = topic('event');

describe('decodeTelemetry', () => {
  it('decodes, validates and keeps the topic', () => {
    const message = value(
      decodeTelemetry(
        TELEMETRY,
        bytes({
          ts: NOW - 5,
          seq: 3,
          metrics: { spindle_rpm: 11850, state: 'running', door_open: false },
        }),
        CTX,
      ),
    );
    expect(message.topic).toBe(TELEMETRY);
    expect(message.samples).toEqual([
      { ts: NOW - 5, seq: 3, fields: { spindle_rpm: 11850, state: 'running', door_open: false } },
    ]);
    expect(message.dropped).toEqual([]);
  });

  it('keeps the valid fields of a partly bad sample and records the drops', () => {
    const message = value(
      decodeTelemetry(
        TELEMETRY,
        bytes({
          metrics: { spindle_rpm: 99999, temperature_c: 40, state: 'exploded', door_open: null },
        }),
        CTX,
      ),
    );
    expect(message.samples).toEqual([{ ts: NOW, fields: { temperature_c: 40 } }]);
    expect(message.dropped).toEqual([
      { metric: 'spindle_rpm', reason: 'out_of_range', detail: '99999 outside [0, 30000] rotrpm' },
      {
        metric: 'state',
        reason: 'not_in_enum',
        detail: '"exploded" is not one of running, idle, setup, fault, maintenance',
      },
    ]);
  });

  it('leaves out batch samples that lost every field and keeps the others', () => {
    const message = value(
      decodeTelemetry(
        TELEMETRY,
        bytes({
          samples: [
            { ts: NOW - 2, metrics: { spindle_rpm: -1 } },
            { ts: NOW - 1, metrics: { spindle_rpm: 100 } },
            { ts: NOW, metrics: { spindle_rpm: null } },
          ],
        }),
        CTX,
      ),
    );
    expect(message.samples).toEqual([{ ts: NOW - 1, fields: { spindle_rpm: 100 } }]);
    expect(message.dropped).toEqual([
      { metric: 'spindle_rpm', reason: 'out_of_range', detail: '-1 outside [0, 30000] rotrpm' },
    ]);
  });

  it('accepts a payload of exactly maxPayloadBytes and rejects one byte more', () => {
    const limits = { ...DEFAULT_LIMITS, maxPayloadBytes: 64 };
    const ctx = { receivedAt: NOW, limits };
    const base = '{"metrics":{"spindle_rpm":1}}';
    const exact = base + ' '.repeat(64 - base.length);
    expect(Buffer.byteLength(exact)).toBe(64);
    expect(decodeTelemetry(TELEMETRY, bytes(exact), ctx).ok).toBe(true);
    expect(rejection(decodeTelemetry(TELEMETRY, bytes(`${exact} `), ctx))).toEqual({
      reason: 'payload_too_large',
      detail: '65 bytes, at most 64',
    });
  });

  it('rejects a payload above the default 256 KiB before decoding it', () => {
    const payload = Buffer.alloc(256 * 1024 + 1, 0x20);
    let decoded = false;
    const spy: PayloadDecoder = {
      name: 'spy',
      decode: () => {
        decoded = true;
        return ok([]);
      },
    };
    expect(rejection(decodeTelemetry(TELEMETRY, payload, CTX, spy))).toEqual({
      reason: 'payload_too_large',
      detail: '262145 bytes, at most 262144',
    });
    expect(decoded).toBe(false);
  });

  it('counts bytes, not characters', () => {
    const payload = `{"metrics":{"note":"${'é'.repeat(10)}"}}`;
    expect(payload.length).toBe(33);
    expect(Buffer.byteLength(payload)).toBe(43);
    const at = (maxPayloadBytes: number) => ({
      receivedAt: NOW,
      limits: { ...DEFAULT_LIMITS, maxPayloadBytes },
    });
    expect(decodeTelemetry(TELEMETRY, bytes(payload), at(43)).ok).toBe(true);
    expect(rejection(decodeTelemetry(TELEMETRY, bytes(payload), at(42)))).toEqual({
      reason: 'payload_too_large',
      detail: '43 bytes, at most 42',
    });
  });

  it('rejects a message whose every field was dropped, listing metric: reason', () => {
    const result = decodeTelemetry(
      TELEMETRY,
      bytes({ metrics: { spindle_rpm: 'fast', door_open: 'yes', state: 'exploded' } }),
      CTX,
    );
    expect(rejection(result)).toEqual({
      reason: 'no_valid_fields',
      detail: 'spindle_rpm: wrong_type; door_open: wrong_type; state: not_in_enum',
    });
  });

  it('rejects a message with only null or no metrics as no_valid_fields: no metrics', () => {
    expect(rejection(decodeTelemetry(TELEMETRY, bytes({ metrics: {} }), CTX))).toEqual({
      reason: 'no_valid_fields',
      detail: 'no metrics',
    });
    expect(
      rejection(decodeTelemetry(TELEMETRY, bytes({ metrics: { spindle_rpm: null } }), CTX)),
    ).toEqual({ reason: 'no_valid_fields', detail: 'no metrics' });
  });

  it('makes the whole message a dead letter for one bad metric name', () => {
    const result = decodeTelemetry(
      TELEMETRY,
      bytes({ samples: [{ metrics: { spindle_rpm: 1 } }, { metrics: { SpindleRpm: 1 } }] }),
      CTX,
    );
    expect(rejection(result)).toEqual({
      reason: 'metric_name_invalid',
      detail: 'metric name "SpindleRpm" must match ^[a-z][a-z0-9_]{0,62}$',
    });
  });

  it('passes decoder errors through', () => {
    expect(
      rejection(decodeTelemetry(TELEMETRY, bytes('{"metrics": {"a": NaN}}'), CTX)).reason,
    ).toBe('payload_not_json');
    expect(rejection(decodeTelemetry(TELEMETRY, Buffer.from([0xff]), CTX)).reason).toBe(
      'payload_not_utf8',
    );
  });

  it('stores a metric named "constructor" like any unknown metric', () => {
    const message = value(
      decodeTelemetry(TELEMETRY, bytes('{"metrics": {"constructor": 5}}'), CTX),
    );
    expect(message.samples).toEqual([{ ts: NOW, fields: { constructor: 5 } }]);
  });

  it('uses the decoder it is given', () => {
    const custom: PayloadDecoder = {
      name: 'custom',
      decode: (_payload, ctx) =>
        ok([{ ts: ctx.receivedAt, tsFromDevice: false, metrics: { spindle_rpm: 7 } }]),
    };
    expect(value(decodeTelemetry(TELEMETRY, bytes('anything'), CTX, custom)).samples).toEqual([
      { ts: NOW, fields: { spindle_rpm: 7 } },
    ]);
  });
});

describe('decodeStatus', () => {
  it.each([
    ['online', true],
    ['offline', false],
    ['  online\n', true],
    ['\toffline \r\n', false],
  ])('decodes the plain text %j with the receive time', (text, online) => {
    expect(value(decodeStatus(STATUS, bytes(text), CTX))).toEqual({
      topic: STATUS,
      online,
      ts: NOW,
    });
  });

  it('decodes the JSON form with a device timestamp', () => {
    expect(value(decodeStatus(STATUS, bytes({ ts: NOW - 1000, state: 'offline' }), CTX))).toEqual({
      topic: STATUS,
      online: false,
      ts: NOW - 1000,
    });
    expect(
      value(decodeStatus(STATUS, bytes({ ts: '2025-12-31T23:59:00Z', state: 'online' }), CTX)).ts,
    ).toBe(NOW - 60_000);
  });

  it('uses the receive time when the JSON form has no ts', () => {
    expect(value(decodeStatus(STATUS, bytes({ state: 'online' }), CTX))).toEqual({
      topic: STATUS,
      online: true,
      ts: NOW,
    });
  });

  it.each([
    ['ONLINE', 'status must be "online", "offline" or JSON {"ts", "state"}'],
    ['on', 'status must be "online", "offline" or JSON {"ts", "state"}'],
    ['', 'status must be "online", "offline" or JSON {"ts", "state"}'],
    ['"online"', 'status JSON must be an object'],
    ['null', 'status JSON must be an object'],
    ['1', 'status JSON must be an object'],
    ['{"state": "ONLINE"}', 'state must be "online" or "offline"'],
    ['{"online": true}', 'state must be "online" or "offline"'],
    ['[]', 'state must be "online" or "offline"'],
  ])('rejects %j as status_invalid', (text, detail) => {
    expect(rejection(decodeStatus(STATUS, bytes(text), CTX))).toEqual({
      reason: 'status_invalid',
      detail,
    });
  });

  it('checks the JSON timestamp', () => {
    expect(
      rejection(decodeStatus(STATUS, bytes({ ts: 'soon', state: 'online' }), CTX)).reason,
    ).toBe('timestamp_invalid');
    expect(
      rejection(decodeStatus(STATUS, bytes({ ts: NOW + 300_001, state: 'online' }), CTX)).reason,
    ).toBe('timestamp_out_of_window');
  });

  it('rejects an oversized status', () => {
    const ctx = { receivedAt: NOW, limits: { ...DEFAULT_LIMITS, maxPayloadBytes: 6 } };
    expect(value(decodeStatus(STATUS, bytes('online'), ctx)).online).toBe(true);
    expect(rejection(decodeStatus(STATUS, bytes('offline'), ctx))).toEqual({
      reason: 'payload_too_large',
      detail: '7 bytes, at most 6',
    });
  });
});

describe('decodeEvent', () => {
  const event = (overrides: Record<string, unknown>) =>
    bytes({
      ts: NOW - 10,
      code: 'SPINDLE_OVERLOAD',
      severity: 'warning',
      message: 'Load 142 %',
      ...overrides,
    });

  it('decodes a valid event', () => {
    expect(value(decodeEvent(EVENT, event({}), CTX))).toEqual({
      topic: EVENT,
      ts: NOW - 10,
      code: 'SPINDLE_OVERLOAD',
      severity: 'warning',
      message: 'Load 142 %',
    });
  });

  it.each(['info', 'warning', 'critical'])('accepts severity %s', (severity) => {
    expect(value(decodeEvent(EVENT, event({ severity }), CTX)).severity).toBe(severity);
  });

  it('uses the receive time when ts is missing or null', () => {
    expect(value(decodeEvent(EVENT, event({ ts: undefined }), CTX)).ts).toBe(NOW);
    expect(value(decodeEvent(EVENT, event({ ts: null }), CTX)).ts).toBe(NOW);
  });

  it('defaults a missing message to the empty string', () => {
    expect(value(decodeEvent(EVENT, event({ message: undefined }), CTX)).message).toBe('');
  });

  it('accepts codes with dots, hyphens, digits and 64 characters', () => {
    expect(value(decodeEvent(EVENT, event({ code: 'E-1.2_x' }), CTX)).code).toBe('E-1.2_x');
    expect(value(decodeEvent(EVENT, event({ code: 'C'.repeat(64) }), CTX)).code).toBe(
      'C'.repeat(64),
    );
  });

  it.each([
    ['a space', 'SPINDLE OVERLOAD'],
    ['a comma', 'E,1'],
    ['an equals sign', 'E=1'],
    ['a quote', 'E"1'],
    ['a newline', 'E1\n'],
    ['65 characters', 'C'.repeat(65)],
    ['the empty string', ''],
    ['a number', 42],
    ['null', null],
  ])('rejects a code with %s', (_label, code) => {
    expect(rejection(decodeEvent(EVENT, event({ code }), CTX))).toEqual({
      reason: 'event_invalid',
      detail: 'code must match ^[A-Za-z0-9_.-]{1,64}$',
    });
  });

  it.each(['INFO', 'error', 'debug', '', null, 1])('rejects the severity %j', (severity) => {
    expect(rejection(decodeEvent(EVENT, event({ severity }), CTX))).toEqual({
      reason: 'event_invalid',
      detail: 'severity must be one of info, warning, critical',
    });
  });

  it('rejects a missing severity', () => {
    expect(rejection(decodeEvent(EVENT, event({ severity: undefined }), CTX)).reason).toBe(
      'event_invalid',
    );
  });

  it('accepts a message of 1024 characters and rejects 1025', () => {
    expect(
      value(decodeEvent(EVENT, event({ message: 'm'.repeat(1024) }), CTX)).message,
    ).toHaveLength(1024);
    expect(rejection(decodeEvent(EVENT, event({ message: 'm'.repeat(1025) }), CTX))).toEqual({
      reason: 'event_invalid',
      detail: 'message is 1025 characters (Unicode code points), at most 1024',
    });
  });

  it('counts the message in code points: 1024 emoji pass, 1025 do not', () => {
    expect(value(decodeEvent(EVENT, event({ message: '🔥'.repeat(1024) }), CTX)).message).toBe(
      '🔥'.repeat(1024),
    );
    expect(rejection(decodeEvent(EVENT, event({ message: '🔥'.repeat(1025) }), CTX))).toEqual({
      reason: 'event_invalid',
      detail: 'message is 1025 characters (Unicode code points), at most 1024',
    });
  });

  it.each([
    ['a newline', 'line 1\nline 2'],
    ['CR LF', 'line 1\r\nline 2'],
    ['a tab', 'axis\t4'],
  ])('keeps a message with %s (ordinary whitespace)', (_label, message) => {
    expect(value(decodeEvent(EVENT, event({ message }), CTX)).message).toBe(message);
  });

  it.each([
    ['NUL', 'a\u0000b', 'U+0000'],
    ['ESC', '\u001b[31m', 'U+001B'],
    ['a form feed', 'a\fb', 'U+000C'],
    ['DEL', 'a\u007fb', 'U+007F'],
    ['a C1 control', 'a\u0085b', 'U+0085'],
    ['a lone surrogate', 'a\ud800b', 'U+D800'],
  ])('rejects a message with %s, naming it', (_label, message, code) => {
    expect(rejection(decodeEvent(EVENT, event({ message }), CTX))).toEqual({
      reason: 'event_invalid',
      detail: `message must not contain control characters other than tab, LF and CR (found ${code})`,
    });
  });

  it.each([null, 5, { text: 'x' }])('rejects the non-string message %j', (message) => {
    expect(rejection(decodeEvent(EVENT, event({ message }), CTX)).reason).toBe('event_invalid');
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"boom"'],
    ['null', 'null'],
  ])('rejects %s as event_invalid', (_label, text) => {
    expect(rejection(decodeEvent(EVENT, bytes(text), CTX))).toEqual({
      reason: 'event_invalid',
      detail: 'event must be a JSON object',
    });
  });

  it('rejects text that is not JSON as payload_not_json', () => {
    expect(rejection(decodeEvent(EVENT, bytes('SPINDLE_OVERLOAD'), CTX)).reason).toBe(
      'payload_not_json',
    );
  });

  it('checks the timestamp', () => {
    expect(rejection(decodeEvent(EVENT, event({ ts: 'later' }), CTX)).reason).toBe(
      'timestamp_invalid',
    );
    expect(rejection(decodeEvent(EVENT, event({ ts: NOW / 1000 }), CTX)).detail).toContain(
      'it looks like seconds',
    );
  });

  it('rejects an oversized event', () => {
    const ctx = { receivedAt: NOW, limits: { ...DEFAULT_LIMITS, maxPayloadBytes: 10 } };
    expect(rejection(decodeEvent(EVENT, event({}), ctx)).reason).toBe('payload_too_large');
  });
});

describe('decodeEvent and control characters', () => {
  it('keeps a newline in an event message and refuses a bell', () => {
    const topic = parseTopic('parks/science-city/f1/cnc_machine/c1/event');
    if (!topic.ok) throw topic.error;
    const decode = (message: string) =>
      decodeEvent(
        topic.value,
        Buffer.from(JSON.stringify({ code: 'E1', severity: 'info', message })),
        {
          receivedAt: Date.UTC(2026, 0, 1),
          limits: DEFAULT_LIMITS,
        },
      );
    const kept = decode('two\nlines');
    expect(kept.ok ? kept.value.message : kept.error.reason).toBe('two\nlines');
    const bell = decode('ring\u0007');
    expect(bell.ok ? 'stored' : bell.error.reason).toBe('event_invalid');
  });
});
