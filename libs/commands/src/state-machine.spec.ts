import { describe, expect, it } from 'vitest';
import {
  COMMAND_STATES,
  transition,
  type CommandEvent,
  type CommandState,
} from './state-machine.js';

/** The README's table, row by row: every allowed transition. */
const ALLOWED: readonly [CommandState, CommandEvent, CommandState][] = [
  ['queued', 'publish', 'sent'],
  ['queued', 'expire', 'expired'],
  ['queued', 'cancel', 'cancelled'],
  ['sent', 'deliver', 'delivered'],
  ['sent', 'requeue', 'queued'],
  ['sent', 'accept', 'accepted'],
  ['sent', 'done', 'done'],
  ['sent', 'fail', 'failed'],
  ['sent', 'reject', 'rejected'],
  ['sent', 'expire', 'expired'],
  ['delivered', 'accept', 'accepted'],
  ['delivered', 'done', 'done'],
  ['delivered', 'fail', 'failed'],
  ['delivered', 'reject', 'rejected'],
  ['delivered', 'expire', 'expired'],
  ['accepted', 'done', 'done'],
  ['accepted', 'fail', 'failed'],
  ['accepted', 'reject', 'rejected'],
  ['accepted', 'expire', 'expired'],
];

/** Repeats that change nothing and are not an error. */
const DUPLICATES: readonly [CommandState, CommandEvent][] = [
  ['delivered', 'deliver'],
  ['accepted', 'deliver'],
  ['accepted', 'accept'],
  ['done', 'done'],
  ['failed', 'fail'],
  ['rejected', 'reject'],
];

const EVENTS: readonly CommandEvent[] = [
  'publish',
  'deliver',
  'requeue',
  'accept',
  'done',
  'fail',
  'reject',
  'expire',
  'cancel',
];

describe('command state machine', () => {
  it.each(ALLOWED)('%s + %s → %s', (state, event, next) => {
    expect(transition(state, event)).toEqual({ ok: true, next });
  });

  it.each(DUPLICATES)('%s + %s is a harmless repeat', (state, event) => {
    expect(transition(state, event)).toEqual({ ok: false, why: 'duplicate' });
  });

  it('refuses every other pair', () => {
    for (const state of COMMAND_STATES)
      for (const event of EVENTS) {
        if (ALLOWED.some(([s, e]) => s === state && e === event)) continue;
        if (DUPLICATES.some(([s, e]) => s === state && e === event)) continue;
        expect(transition(state, event), `${state} + ${event}`).toEqual({
          ok: false,
          why: 'not_allowed',
        });
      }
  });

  it('leaves no terminal state', () => {
    for (const state of ['done', 'failed', 'rejected', 'expired', 'cancelled'] as const)
      for (const event of EVENTS) expect(transition(state, event).ok).toBe(false);
  });
});
