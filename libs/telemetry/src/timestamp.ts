import { fail, ok, type Result } from './errors.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** Reads a contract timestamp: epoch milliseconds or an RFC 3339 string. */
export function parseTimestamp(value: unknown): Result<number> {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return fail('timestamp_invalid', `ts ${value} is not an epoch-ms time`);
    return ok(Math.floor(value));
  }
  if (typeof value === 'string') {
    const ms = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms)) return fail('timestamp_invalid', `ts "${value.slice(0, 40)}" is not RFC 3339`);
    return ok(ms);
  }
  return fail('timestamp_invalid', `ts must be epoch ms or an RFC 3339 string, got ${typeof value}`);
}

/** Checks a timestamp against the accepted window [now − maxPast, now + maxFuture]. */
export function checkWindow(ts: number, now: number, maxPastMs: number, maxFutureMs: number): Result<number> {
  if (ts > now + maxFutureMs) {
    return fail('timestamp_out_of_window', `ts ${describe(ts)} is more than ${maxFutureMs} ms in the future`);
  }
  if (ts < now - maxPastMs) {
    // A common firmware mistake: seconds where milliseconds are expected.
    const hint = ts > 1e9 && ts < 1e10 ? ' (it looks like seconds; the contract wants milliseconds)' : '';
    return fail('timestamp_out_of_window', `ts ${ts} is more than ${maxPastMs} ms in the past${hint}`);
  }
  return ok(ts);
}

function describe(ts: number): string {
  return ts <= 8.64e15 ? new Date(ts).toISOString() : String(ts);
}
