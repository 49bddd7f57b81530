import { fail, ok, type Result } from './errors.js';

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Reads a contract timestamp: epoch milliseconds or an RFC 3339 string. */
export function parseTimestamp(value: unknown): Result<number> {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0)
      return fail('timestamp_invalid', `ts ${value} is not an epoch-ms time`);
    return ok(Math.floor(value));
  }
  if (typeof value === 'string') {
    const ms = parseRfc3339(value);
    if (ms === undefined)
      return fail('timestamp_invalid', `ts "${value.slice(0, 40)}" is not RFC 3339`);
    return ok(ms);
  }
  return fail(
    'timestamp_invalid',
    `ts must be epoch ms or an RFC 3339 string, got ${typeof value}`,
  );
}

/** Checks a timestamp against the accepted window [now − maxPast, now + maxFuture]. */
export function checkWindow(
  ts: number,
  now: number,
  maxPastMs: number,
  maxFutureMs: number,
): Result<number> {
  if (ts > now + maxFutureMs) {
    return fail(
      'timestamp_out_of_window',
      `ts ${describe(ts)} is more than ${maxFutureMs} ms in the future`,
    );
  }
  if (ts < now - maxPastMs) {
    // A common firmware mistake: seconds where milliseconds are expected.
    const hint =
      ts > 1e9 && ts < 1e10 ? ' (it looks like seconds; the contract wants milliseconds)' : '';
    return fail(
      'timestamp_out_of_window',
      `ts ${ts} is more than ${maxPastMs} ms in the past${hint}`,
    );
  }
  return ok(ts);
}

function describe(ts: number): string {
  return ts <= 8.64e15 ? new Date(ts).toISOString() : String(ts);
}

/**
 * RFC 3339 date-time → epoch ms, field by field: `Date.parse` would roll 30 February over into
 * March, and a device with a broken clock must be told, not stored on another day.
 */
function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  )
    return undefined;
  let offsetMin = 0;
  if (m[8]) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, fraction) - offsetMin * 60_000;
}
