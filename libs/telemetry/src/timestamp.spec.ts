import { describe, expect, it } from 'vitest';
import type { Result } from './errors.js';
import { DEFAULT_LIMITS } from './limits.js';
import { checkWindow, parseTimestamp } from './timestamp.js';

const NOW = Date.UTC(2026, 0, 1);
const { maxPastMs: PAST, maxFutureMs: FUTURE } = DEFAULT_LIMITS;

function value(result: Result<number>): number {
  if (!result.ok) throw new Error(`expected a value, got ${result.error.message}`);
  return result.value;
}

function rejection(result: Result<unknown>): { reason: string; detail: string } {
  if (result.ok) throw new Error('expected a rejection, got a value');
  return { reason: result.error.reason, detail: result.error.detail };
}

describe('parseTimestamp: epoch milliseconds', () => {
  it('accepts integer epoch ms as they are', () => {
    expect(value(parseTimestamp(1764000000123))).toBe(1764000000123);
    expect(value(parseTimestamp(0))).toBe(0);
  });

  it('floors fractional milliseconds', () => {
    expect(value(parseTimestamp(1764000000123.9))).toBe(1764000000123);
    expect(value(parseTimestamp(1764000000123.001))).toBe(1764000000123);
  });

  it.each([
    ['negative', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('rejects %s numbers', (_label, ts) => {
    const { reason, detail } = rejection(parseTimestamp(ts));
    expect(reason).toBe('timestamp_invalid');
    expect(detail).toBe(`ts ${ts} is not an epoch-ms time`);
  });
});

describe('parseTimestamp: RFC 3339', () => {
  it.each([
    ['UTC with Z', '2026-01-01T00:00:00Z', NOW],
    ['lower-case t and z', '2026-01-01t00:00:00z', NOW],
    ['a space as separator', '2026-01-01 00:00:00Z', NOW],
    ['a positive offset', '2026-01-01T08:00:00+08:00', NOW],
    ['a negative offset', '2025-12-31T19:00:00-05:00', NOW],
    ['a zero offset', '2026-01-01T00:00:00+00:00', NOW],
    ['milliseconds', '2026-01-01T00:00:00.123Z', NOW + 123],
    ['one fraction digit', '2026-01-01T00:00:00.5Z', NOW + 500],
    ['nanoseconds (truncated to ms)', '2026-01-01T00:00:00.123456789Z', NOW + 123],
    ['a fraction and an offset', '2026-01-01T05:30:00.250+05:30', NOW + 250],
  ])('accepts %s', (_label, ts, expected) => {
    expect(value(parseTimestamp(ts))).toBe(expected);
  });

  it.each([
    ['no zone', '2026-01-01T00:00:00'],
    ['a date only', '2026-01-01'],
    ['no seconds', '2026-01-01T00:00Z'],
    ['a compact offset', '2026-01-01T00:00:00+0000'],
    ['ten fraction digits', '2026-01-01T00:00:00.1234567890Z'],
    ['an empty fraction', '2026-01-01T00:00:00.Z'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['day 32', '2026-01-32T00:00:00Z'],
    ['hour 25', '2026-01-01T25:00:00Z'],
    ['minute 60', '2026-01-01T00:60:00Z'],
    ['a leap second', '2026-12-31T23:59:60Z'],
    ['offset +24:00', '2026-01-01T00:00:00+24:00'],
    ['surrounding spaces', ' 2026-01-01T00:00:00Z '],
    ['a numeric string', '1764000000123'],
    ['an English date', 'Thu, 01 Jan 2026 00:00:00 GMT'],
    ['the empty string', ''],
  ])('rejects %s', (_label, ts) => {
    const { reason, detail } = rejection(parseTimestamp(ts));
    expect(reason).toBe('timestamp_invalid');
    expect(detail).toBe(`ts "${ts}" is not RFC 3339`);
  });

  it('shortens a long invalid string in the detail', () => {
    const { detail } = rejection(parseTimestamp('x'.repeat(500)));
    expect(detail).toBe(`ts "${'x'.repeat(40)}" is not RFC 3339`);
  });

  it.each([
    ['30 February', '2026-02-30T00:00:00Z'],
    ['31 April', '2026-04-31T00:00:00Z'],
    ['29 February of a common year', '2026-02-29T00:00:00Z'],
    ['hour 24', '2026-01-01T24:00:00Z'],
  ])('rejects the impossible date %s', (_label, ts) => {
    expect(rejection(parseTimestamp(ts)).reason).toBe('timestamp_invalid');
  });

  it('accepts 29 February of a leap year', () => {
    expect(value(parseTimestamp('2028-02-29T00:00:00Z'))).toBe(Date.UTC(2028, 1, 29));
  });
});

describe('parseTimestamp: other types', () => {
  it.each([
    ['boolean', true],
    ['object', { ms: 1 }],
    ['object', [1764000000123]],
    ['object', null],
    ['undefined', undefined],
    ['bigint', 1764000000123n],
  ])('rejects a %s', (type, ts) => {
    const { reason, detail } = rejection(parseTimestamp(ts));
    expect(reason).toBe('timestamp_invalid');
    expect(detail).toBe(`ts must be epoch ms or an RFC 3339 string, got ${type}`);
  });
});

describe('checkWindow', () => {
  const check = (ts: number) => checkWindow(ts, NOW, PAST, FUTURE);

  it('accepts now', () => {
    expect(value(check(NOW))).toBe(NOW);
  });

  it('accepts exactly now − maxPast and now + maxFuture (inclusive)', () => {
    expect(value(check(NOW - PAST))).toBe(NOW - PAST);
    expect(value(check(NOW + FUTURE))).toBe(NOW + FUTURE);
  });

  it('rejects 1 ms before the window', () => {
    const ts = NOW - PAST - 1;
    const { reason, detail } = rejection(check(ts));
    expect(reason).toBe('timestamp_out_of_window');
    expect(detail).toBe(`ts ${ts} is more than 604800000 ms in the past`);
  });

  it('rejects 1 ms after the window, showing the time as ISO', () => {
    const { reason, detail } = rejection(check(NOW + FUTURE + 1));
    expect(reason).toBe('timestamp_out_of_window');
    expect(detail).toBe('ts 2026-01-01T00:05:00.001Z is more than 300000 ms in the future');
  });

  it('shows a far-future time beyond the Date range as a number', () => {
    const { reason, detail } = rejection(check(1e20));
    expect(reason).toBe('timestamp_out_of_window');
    expect(detail).toBe('ts 100000000000000000000 is more than 300000 ms in the future');
  });

  it('hints that a timestamp in seconds is one', () => {
    const seconds = Math.floor(NOW / 1000);
    const { reason, detail } = rejection(check(seconds));
    expect(reason).toBe('timestamp_out_of_window');
    expect(detail).toBe(
      `ts ${seconds} is more than 604800000 ms in the past (it looks like seconds; the contract wants milliseconds)`,
    );
  });

  it.each([0, 1e9, 1e10, NOW - PAST - 1])('gives no seconds hint for %d', (ts) => {
    const { reason, detail } = rejection(check(ts));
    expect(reason).toBe('timestamp_out_of_window');
    expect(detail).not.toContain('seconds');
  });

  it('uses the limits it is given', () => {
    expect(value(checkWindow(NOW - 10, NOW, 10, 0))).toBe(NOW - 10);
    expect(rejection(checkWindow(NOW - 11, NOW, 10, 0)).reason).toBe('timestamp_out_of_window');
    expect(rejection(checkWindow(NOW + 1, NOW, 10, 0)).reason).toBe('timestamp_out_of_window');
  });
});
