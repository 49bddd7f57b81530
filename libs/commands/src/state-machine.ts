/**
 * The life of a command, as one pure function: states and events as string unions, one
 * exhaustive transition table. Side effects (database, MQTT, InfluxDB) happen outside, after a
 * transition was accepted. The table is in this library's README, one test per row.
 */
export const COMMAND_STATES = [
  'queued',
  'sent',
  'delivered',
  'accepted',
  'done',
  'failed',
  'rejected',
  'expired',
  'cancelled',
] as const;
export type CommandState = (typeof COMMAND_STATES)[number];

export const TERMINAL_STATES: readonly CommandState[] = [
  'done',
  'failed',
  'rejected',
  'expired',
  'cancelled',
];

export function isTerminal(state: CommandState): boolean {
  return TERMINAL_STATES.includes(state);
}

/**
 * What can happen to a command:
 * - `publish`: the service published it to the broker, which took it (its PUBACK);
 * - `deliver`: the broker says the device acknowledged the delivery (the device's PUBACK);
 * - `requeue`: it was published but not known delivered, and must go again (the device went
 *   offline, the service restarted);
 * - `accept` / `done` / `fail` / `reject`: the device's `cmd_result`;
 * - `expire`: its deadline passed; `cancel`: an operator withdrew it.
 */
export type CommandEvent =
  'publish' | 'deliver' | 'requeue' | 'accept' | 'done' | 'fail' | 'reject' | 'expire' | 'cancel';

export type Transition =
  | { readonly ok: true; readonly next: CommandState }
  | {
      readonly ok: false;
      /** `duplicate`: already there (a repeat, harmless); `not_allowed`: out of order or too late. */
      readonly why: 'duplicate' | 'not_allowed';
    };

const to = (next: CommandState): Transition => ({ ok: true, next });
const NOT_ALLOWED: Transition = { ok: false, why: 'not_allowed' };
const DUPLICATE: Transition = { ok: false, why: 'duplicate' };

/** The one transition function. A device result may overtake the broker's delivery notice. */
export function transition(state: CommandState, event: CommandEvent): Transition {
  switch (event) {
    case 'publish':
      return state === 'queued' ? to('sent') : NOT_ALLOWED;
    case 'deliver':
      if (state === 'sent') return to('delivered');
      // A late notice after the device already answered (or a repeat): nothing to change.
      return state === 'queued' || isTerminal(state) ? NOT_ALLOWED : DUPLICATE;
    case 'requeue':
      return state === 'sent' ? to('queued') : NOT_ALLOWED;
    case 'accept':
      if (state === 'sent' || state === 'delivered') return to('accepted');
      return state === 'accepted' ? DUPLICATE : NOT_ALLOWED;
    case 'done':
    case 'fail':
    case 'reject': {
      const next = event === 'done' ? 'done' : event === 'fail' ? 'failed' : 'rejected';
      if (state === 'sent' || state === 'delivered' || state === 'accepted') return to(next);
      return state === next ? DUPLICATE : NOT_ALLOWED;
    }
    case 'expire':
      return isTerminal(state) ? NOT_ALLOWED : to('expired');
    case 'cancel':
      return state === 'queued' ? to('cancelled') : NOT_ALLOWED;
  }
}

/** The event a device's `cmd_result` status stands for. */
export function resultEvent(status: 'accepted' | 'done' | 'failed' | 'rejected'): CommandEvent {
  switch (status) {
    case 'accepted':
      return 'accept';
    case 'done':
      return 'done';
    case 'failed':
      return 'fail';
    case 'rejected':
      return 'reject';
  }
}
