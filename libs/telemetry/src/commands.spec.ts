import { describe, expect, it } from 'vitest';
import {
  checkCommand,
  decodeCommandResult,
  MAX_COMMAND_RESULT_BYTES,
  parseCommandMessage,
  type CommandMessage,
} from './commands.js';
import type { DecodeContext } from './decoders/decoder.js';
import { DEFAULT_LIMITS } from './limits.js';
import { parseTopic, type ParsedTopic } from './topic.js';
import { bytes, rejection, value } from '../test/results.js';

const NOW = Date.UTC(2026, 0, 1);
const CTX: DecodeContext = { receivedAt: NOW, limits: DEFAULT_LIMITS };
const MINUTE = 60 * 1000;

const TOPIC: ParsedTopic = (() => {
  const result = parseTopic('parks/yuzhu/tower-a/building_hvac/ahu-3/cmd_result');
  if (!result.ok) throw result.error;
  return result.value;
})();

function decode(payload: string | object): ReturnType<typeof decodeCommandResult> {
  return decodeCommandResult(TOPIC, bytes(payload), CTX);
}

const invalid = (detail: string) => ({ reason: 'cmd_result_invalid', detail });

describe('checkCommand', () => {
  it('accepts a command of the catalogue and returns its parameters', () => {
    expect(checkCommand('street_light', 'dim', { level_pct: 40 })).toEqual({
      ok: true,
      params: { level_pct: 40 },
    });
    expect(checkCommand('street_light', 'switch', { on: false })).toEqual({
      ok: true,
      params: { on: false },
    });
    expect(checkCommand('ultra_low_freezer', 'set_setpoint', { setpoint_c: -80.5 })).toEqual({
      ok: true,
      params: { setpoint_c: -80.5 },
    });
  });

  it.each([undefined, null, {}])(
    'accepts a command without parameters with params %j',
    (params) => {
      expect(checkCommand('cnc_machine', 'stop', params)).toEqual({ ok: true, params: {} });
    },
  );

  it('refuses a command the asset type does not have, listing the ones it has', () => {
    expect(checkCommand('bsl_laboratory', 'dim', { level_pct: 40 })).toEqual({
      ok: false,
      code: 'unknown_command',
      detail:
        '"dim" is not a command of bsl_laboratory (known: start_decontamination, end_decontamination)',
    });
  });

  it('refuses any command of an asset type that accepts none', () => {
    expect(checkCommand('energy_meter', 'stop', {})).toEqual({
      ok: false,
      code: 'unknown_command',
      detail: '"stop" is not a command of energy_meter (it accepts none)',
    });
    expect(checkCommand('no_such_type', 'stop', {})).toEqual({
      ok: false,
      code: 'unknown_command',
      detail: '"stop" is not a command of no_such_type (it accepts none)',
    });
  });

  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])(
    'refuses the command name %s (no inherited property is a command)',
    (name) => {
      expect(checkCommand('street_light', name, {})).toEqual({
        ok: false,
        code: 'unknown_command',
        detail: `"${name}" is not a command of street_light (known: dim, switch)`,
      });
    },
  );

  it.each([[[]], [[40]], ['level_pct=40'], [40]])(
    'refuses params %j that are not an object',
    (params) => {
      expect(checkCommand('street_light', 'dim', params)).toEqual({
        ok: false,
        code: 'params_invalid',
        detail: 'params must be a JSON object',
      });
    },
  );

  it('refuses a missing parameter', () => {
    expect(checkCommand('street_light', 'dim', {})).toEqual({
      ok: false,
      code: 'param_missing',
      detail: 'dim needs "level_pct"',
    });
    expect(checkCommand('building_hvac', 'set_mode', undefined)).toEqual({
      ok: false,
      code: 'param_missing',
      detail: 'set_mode needs "mode"',
    });
  });

  it('refuses a parameter the command does not have', () => {
    expect(checkCommand('street_light', 'dim', { level_pct: 40, ramp_s: 5 })).toEqual({
      ok: false,
      code: 'param_unknown',
      detail: 'dim has no parameter "ramp_s"',
    });
    expect(checkCommand('cnc_machine', 'stop', { force: true })).toEqual({
      ok: false,
      code: 'param_unknown',
      detail: 'stop has no parameter "force"',
    });
  });

  it('accepts the bounds of a range', () => {
    expect(checkCommand('street_light', 'dim', { level_pct: 0 }).ok).toBe(true);
    expect(checkCommand('street_light', 'dim', { level_pct: 100 }).ok).toBe(true);
    expect(checkCommand('ultra_low_freezer', 'set_setpoint', { setpoint_c: -86 }).ok).toBe(true);
    expect(checkCommand('ultra_low_freezer', 'set_setpoint', { setpoint_c: -60 }).ok).toBe(true);
  });

  it.each([
    ['street_light', 'dim', 'level_pct', -1, 'level_pct = -1 is outside [0, 100] percent'],
    ['street_light', 'dim', 'level_pct', 100.5, 'level_pct = 100.5 is outside [0, 100] percent'],
    [
      'building_hvac',
      'set_supply_setpoint',
      'setpoint_c',
      11.9,
      'setpoint_c = 11.9 is outside [12, 30] celsius',
    ],
    [
      'building_hvac',
      'set_supply_setpoint',
      'setpoint_c',
      40,
      'setpoint_c = 40 is outside [12, 30] celsius',
    ],
    [
      'ultra_low_freezer',
      'set_setpoint',
      'setpoint_c',
      -90,
      'setpoint_c = -90 is outside [-86, -60] celsius',
    ],
    ['ev_charger', 'set_power_limit', 'limit_kw', 351, 'limit_kw = 351 is outside [0, 350] kwatt'],
  ])('refuses %s %s %s = %d as out of range', (assetType, name, key, given, detail) => {
    expect(checkCommand(assetType, name, { [key]: given })).toEqual({
      ok: false,
      code: 'param_out_of_range',
      detail,
    });
  });

  it.each(['40', true, null, Number.NaN, Number.POSITIVE_INFINITY, { value: 40 }])(
    'refuses the non-number level_pct %j',
    (given) => {
      expect(checkCommand('street_light', 'dim', { level_pct: given })).toEqual({
        ok: false,
        code: 'param_wrong_type',
        detail: 'level_pct must be a number',
      });
    },
  );

  it.each(['true', 1, 0, null])('refuses the non-boolean on %j', (given) => {
    expect(checkCommand('street_light', 'switch', { on: given })).toEqual({
      ok: false,
      code: 'param_wrong_type',
      detail: 'on must be true or false',
    });
  });

  describe('whole numbers (bsl_laboratory start_decontamination duration_min)', () => {
    it('accepts whole minutes within [30, 480]', () => {
      for (const duration_min of [30, 45, 480])
        expect(checkCommand('bsl_laboratory', 'start_decontamination', { duration_min })).toEqual({
          ok: true,
          params: { duration_min },
        });
    });

    it('refuses a fraction of a minute, before the range check', () => {
      expect(
        checkCommand('bsl_laboratory', 'start_decontamination', { duration_min: 45.5 }),
      ).toEqual({
        ok: false,
        code: 'param_not_integer',
        detail: 'duration_min must be a whole number',
      });
      expect(
        checkCommand('bsl_laboratory', 'start_decontamination', { duration_min: 29.5 }),
      ).toEqual({
        ok: false,
        code: 'param_not_integer',
        detail: 'duration_min must be a whole number',
      });
    });

    it('refuses whole minutes out of range', () => {
      expect(checkCommand('bsl_laboratory', 'start_decontamination', { duration_min: 29 })).toEqual(
        {
          ok: false,
          code: 'param_out_of_range',
          detail: 'duration_min = 29 is outside [30, 480] m',
        },
      );
      expect(
        checkCommand('bsl_laboratory', 'start_decontamination', { duration_min: 481 }),
      ).toEqual({
        ok: false,
        code: 'param_out_of_range',
        detail: 'duration_min = 481 is outside [30, 480] m',
      });
    });

    it('refuses a duration given as a string', () => {
      expect(
        checkCommand('bsl_laboratory', 'start_decontamination', { duration_min: '60' }),
      ).toEqual({ ok: false, code: 'param_wrong_type', detail: 'duration_min must be a number' });
    });
  });

  describe('enums (building_hvac set_mode mode)', () => {
    it.each(['off', 'cooling', 'heating', 'fan_only', 'economiser'])('accepts %s', (mode) => {
      expect(checkCommand('building_hvac', 'set_mode', { mode })).toEqual({
        ok: true,
        params: { mode },
      });
    });

    it.each(['auto', 'Cooling', 'cooling ', ''])('refuses %j, listing the values', (mode) => {
      expect(checkCommand('building_hvac', 'set_mode', { mode })).toEqual({
        ok: false,
        code: 'param_not_in_enum',
        detail: `mode "${mode}" is not one of off, cooling, heating, fan_only, economiser`,
      });
    });

    it.each([1, true, null, ['cooling']])('refuses the non-string %j', (mode) => {
      expect(checkCommand('building_hvac', 'set_mode', { mode })).toEqual({
        ok: false,
        code: 'param_wrong_type',
        detail: 'mode must be a string',
      });
    });
  });
});

describe('decodeCommandResult', () => {
  it('decodes a bare accepted with defaults and the receive time', () => {
    expect(value(decode({ id: 'c-42', status: 'accepted' }))).toEqual({
      topic: TOPIC,
      id: 'c-42',
      status: 'accepted',
      result: {},
      reason: '',
      message: '',
      ts: NOW,
    });
  });

  it('decodes done with a result of plain values and the device time', () => {
    const r = value(
      decode({
        id: '5f0c_A-9',
        status: 'done',
        result: { dimming_pct: 40, lamp_on: true, state: 'idle' },
        ts: NOW - 1200,
      }),
    );
    expect(r.topic).toBe(TOPIC);
    expect(r).toMatchObject({
      id: '5f0c_A-9',
      status: 'done',
      result: { dimming_pct: 40, lamp_on: true, state: 'idle' },
      reason: '',
      message: '',
      ts: NOW - 1200,
    });
  });

  it('decodes failed and rejected with their reason and message', () => {
    expect(
      value(decode({ id: 'c-1', status: 'failed', reason: 'actuator_stuck', message: 'damper' })),
    ).toMatchObject({ status: 'failed', reason: 'actuator_stuck', message: 'damper' });
    expect(
      value(
        decode({
          id: 'c-2',
          status: 'rejected',
          reason: 'lamp_fault',
          message: 'the lamp or its driver is faulted',
        }),
      ),
    ).toMatchObject({
      status: 'rejected',
      reason: 'lamp_fault',
      message: 'the lamp or its driver is faulted',
    });
  });

  it('treats null result, reason and message as absent', () => {
    expect(
      value(decode({ id: 'c-1', status: 'done', result: null, reason: null, message: null })),
    ).toMatchObject({ result: {}, reason: '', message: '' });
  });

  it('accepts an id of 64 characters', () => {
    const id = 'a'.repeat(64);
    expect(value(decode({ id, status: 'done' })).id).toBe(id);
  });

  it.each([['c 42'], [''], ['a'.repeat(65)], ['c/42'], ['ç-42'], [42], [null], [undefined]])(
    'refuses the id %j',
    (id) => {
      expect(rejection(decode({ id, status: 'done' }))).toEqual(
        invalid('id must match ^[A-Za-z0-9_-]{1,64}$'),
      );
    },
  );

  it.each(['ok', 'DONE', 'succeeded', '', null, undefined, 1])(
    'refuses the status %j',
    (status) => {
      expect(rejection(decode({ id: 'c-42', status }))).toEqual(
        invalid('status must be one of accepted, done, failed, rejected'),
      );
    },
  );

  describe('result', () => {
    it('refuses a nested object or an array as a value', () => {
      expect(rejection(decode({ id: 'c-1', status: 'done', result: { state: { a: 1 } } }))).toEqual(
        invalid('result.state: a name and a plain value'),
      );
      expect(rejection(decode({ id: 'c-1', status: 'done', result: { levels: [1, 2] } }))).toEqual(
        invalid('result.levels: a name and a plain value'),
      );
      expect(rejection(decode({ id: 'c-1', status: 'done', result: { state: null } }))).toEqual(
        invalid('result.state: a name and a plain value'),
      );
    });

    it.each([[[1, 2]], ['done'], [5], [true]])('refuses the result %j', (result) => {
      expect(rejection(decode({ id: 'c-1', status: 'done', result }))).toEqual(
        invalid('result must be an object of values'),
      );
    });

    it('refuses a value name off the pattern', () => {
      expect(rejection(decode({ id: 'c-1', status: 'done', result: { Level: 1 } }))).toEqual(
        invalid('result.Level: a name and a plain value'),
      );
    });

    it('counts a string value in code points: 256 emoji pass, 257 do not', () => {
      expect(
        value(decode({ id: 'c-1', status: 'done', result: { note: '🔥'.repeat(256) } })).result,
      ).toEqual({ note: '🔥'.repeat(256) });
      expect(
        rejection(decode({ id: 'c-1', status: 'done', result: { note: '🔥'.repeat(257) } })),
      ).toEqual(invalid('result.note: 257 characters (Unicode code points), at most 256'));
      expect(
        rejection(decode({ id: 'c-1', status: 'done', result: { note: 'n'.repeat(257) } })),
      ).toEqual(invalid('result.note: 257 characters (Unicode code points), at most 256'));
    });

    it.each([
      ['a newline', 'a\nb'],
      ['a tab', 'a\tb'],
      ['a bell', 'a\u0007b'],
      ['DEL', 'a\u007fb'],
    ])('refuses a string value with %s, as a string metric would', (_label, note) => {
      expect(rejection(decode({ id: 'c-1', status: 'done', result: { note } }))).toEqual(
        invalid(
          'result.note: string values must not contain control characters (U+0000–U+001F, U+007F)',
        ),
      );
    });
  });

  it('refuses a reason off the pattern', () => {
    for (const reason of ['Lamp fault', 'lamp-fault', '1st', 'a'.repeat(65), 7])
      expect(rejection(decode({ id: 'c-1', status: 'failed', reason }))).toEqual(
        invalid('reason must match ^[a-z][a-z0-9_]{0,63}$'),
      );
  });

  describe('message', () => {
    const withMessage = (message: unknown) => decode({ id: 'c-1', status: 'failed', message });

    it('counts code points: 200 and 512 emoji pass', () => {
      expect(value(withMessage('🔥'.repeat(200))).message).toBe('🔥'.repeat(200));
      expect(value(withMessage('🔥'.repeat(512))).message).toBe('🔥'.repeat(512));
    });

    it('accepts 512 characters and refuses 513', () => {
      expect(value(withMessage('m'.repeat(512))).message).toBe('m'.repeat(512));
      expect(rejection(withMessage('m'.repeat(513)))).toEqual(
        invalid('message is 513 characters (Unicode code points), at most 512'),
      );
      expect(rejection(withMessage('🔥'.repeat(513)))).toEqual(
        invalid('message is 513 characters (Unicode code points), at most 512'),
      );
    });

    it.each([
      ['a newline', 'two\nlines'],
      ['a tab', 'a\tb'],
      ['CR LF', 'line 1\r\nline 2'],
    ])('keeps a message with %s', (_label, message) => {
      expect(value(withMessage(message)).message).toBe(message);
    });

    it.each([
      ['a bell', 'door\u0007open', 'U+0007'],
      ['NUL', 'a\u0000b', 'U+0000'],
      ['ESC', '\u001b[31mred', 'U+001B'],
      ['DEL', 'a\u007f', 'U+007F'],
      ['a C1 control', 'a\u0085b', 'U+0085'],
    ])('refuses a message with %s, naming it', (_label, message, code) => {
      expect(rejection(withMessage(message))).toEqual(
        invalid(
          `message must not contain control characters other than tab, LF and CR (found ${code})`,
        ),
      );
    });

    it('refuses a lone surrogate escape, naming it', () => {
      expect(
        rejection(decode('{"id": "c-1", "status": "failed", "message": "a\\ud800b"}')),
      ).toEqual(
        invalid(
          'message must not contain control characters other than tab, LF and CR (found U+D800)',
        ),
      );
    });

    it.each([5, true, ['a'], { text: 'a' }])('refuses the non-string message %j', (message) => {
      expect(rejection(withMessage(message))).toEqual(invalid('message must be a string'));
    });
  });

  describe('ts', () => {
    const at = (ts: unknown) => value(decode({ id: 'c-1', status: 'done', ts })).ts;

    it('keeps a device time within 5 minutes of the receive time', () => {
      expect(at(NOW - 1200)).toBe(NOW - 1200);
      expect(at(NOW - 5 * MINUTE)).toBe(NOW - 5 * MINUTE);
      expect(at(NOW + 5 * MINUTE)).toBe(NOW + 5 * MINUTE);
      expect(at('2025-12-31T23:59:59.500Z')).toBe(NOW - 500);
    });

    it('replaces a device time more than 5 minutes off by the receive time', () => {
      expect(at(NOW - 5 * MINUTE - 1)).toBe(NOW);
      expect(at(NOW + 5 * MINUTE + 1)).toBe(NOW);
      expect(at(NOW - 7 * 24 * 60 * MINUTE)).toBe(NOW);
      expect(at(Math.floor(NOW / 1000))).toBe(NOW); // seconds, not milliseconds
    });

    it('uses the receive time without a ts', () => {
      expect(at(undefined)).toBe(NOW);
      expect(at(null)).toBe(NOW);
    });

    it('refuses a ts that is not a timestamp', () => {
      expect(rejection(decode({ id: 'c-1', status: 'done', ts: 'yesterday' })).reason).toBe(
        'timestamp_invalid',
      );
      expect(rejection(decode({ id: 'c-1', status: 'done', ts: -1 })).reason).toBe(
        'timestamp_invalid',
      );
    });
  });

  describe('payload', () => {
    const padded = (size: number) => {
      const doc = '{"id": "c-1", "status": "done"}';
      return doc.slice(0, -1) + ' '.repeat(size - doc.length) + '}';
    };

    it('accepts 4 KiB and refuses one byte more', () => {
      expect(padded(MAX_COMMAND_RESULT_BYTES)).toHaveLength(4096);
      expect(value(decode(padded(MAX_COMMAND_RESULT_BYTES))).status).toBe('done');
      expect(rejection(decode(padded(MAX_COMMAND_RESULT_BYTES + 1)))).toEqual({
        reason: 'payload_too_large',
        detail: '4097 bytes, at most 4096',
      });
    });

    it('counts bytes, not characters', () => {
      // 1,100 emoji: 2,200 UTF-16 units but 4,400 bytes of UTF-8.
      const r = decode({ id: 'c-1', status: 'done', result: { a: '🔥'.repeat(1100) } });
      expect(rejection(r).reason).toBe('payload_too_large');
    });

    it.each(['not json', '{"id": "c-1", "status": "done"', ''])(
      'refuses %j as payload_not_json',
      (text) => {
        expect(rejection(decode(text)).reason).toBe('payload_not_json');
      },
    );

    it.each(['[]', 'null', '"done"', '42'])('refuses the JSON %s that is not an object', (text) => {
      expect(rejection(decode(text))).toEqual(invalid('a command result must be a JSON object'));
    });
  });
});

describe('parseCommandMessage', () => {
  const command: CommandMessage = {
    id: '5f0c-1',
    name: 'dim',
    params: { level_pct: 40 },
    expiresAt: NOW + 10 * MINUTE,
    issuedAt: NOW,
  };

  it('reads a command from a buffer or a string', () => {
    expect(parseCommandMessage(bytes(command))).toEqual(command);
    expect(parseCommandMessage(JSON.stringify(command))).toEqual(command);
  });

  it('defaults a missing issuedAt to 0', () => {
    const { issuedAt: _issuedAt, ...rest } = command;
    expect(parseCommandMessage(JSON.stringify(rest))).toEqual({ ...rest, issuedAt: 0 });
  });

  it.each([
    ['not JSON', 'dim 40'],
    ['JSON null', 'null'],
    ['a bad id', JSON.stringify({ ...command, id: 'c 1' })],
    ['no id', JSON.stringify({ ...command, id: undefined })],
    ['a non-string name', JSON.stringify({ ...command, name: 7 })],
    ['no expiresAt', JSON.stringify({ ...command, expiresAt: undefined })],
    ['expiresAt as text', JSON.stringify({ ...command, expiresAt: '2026-01-01T00:10:00Z' })],
    ['params null', JSON.stringify({ ...command, params: null })],
    ['params an array', JSON.stringify({ ...command, params: [40] })],
    ['no params', JSON.stringify({ ...command, params: undefined })],
  ])('returns undefined for %s', (_label, payload) => {
    expect(parseCommandMessage(payload)).toBeUndefined();
  });
});
