import type { Result } from '../src/errors.js';

/** A payload as it arrives: a string as is, anything else as JSON. */
export function bytes(payload: string | object): Buffer {
  return Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
}

/** The value of a result that must be ok. */
export function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected a value, got ${result.error.message}`);
  return result.value;
}

/** The reason and detail of a result that must be a rejection. */
export function rejection(result: Result<unknown>): { reason: string; detail: string } {
  if (result.ok) throw new Error('expected a rejection, got a value');
  return { reason: result.error.reason, detail: result.error.detail };
}
