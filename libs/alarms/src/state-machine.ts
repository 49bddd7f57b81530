/**
 * The ISA-18.2 alarm lifecycle as one pure function. An alarm has an annunciation state
 * (`normal`, `unacknowledged`, `acknowledged`, `returned_unacknowledged`, `latched`) and three
 * independent masks — shelved (by an operator, with an expiry), suppressed by design (a state of
 * the device), out of service (by an operator, for maintenance) — of which the strongest is what
 * the alarm shows: out of service > suppressed > shelved > the annunciation state. While masked,
 * the process condition is still followed; when the last mask is lifted, the alarm shows what
 * the condition is now: `unacknowledged` when active (annunciated afresh), else `normal`.
 */
export const ANNUNCIATION_STATES = [
  'normal',
  'unacknowledged',
  'acknowledged',
  'returned_unacknowledged',
  'latched',
] as const;
export type AnnunciationState = (typeof ANNUNCIATION_STATES)[number];

export const ALARM_STATES = [
  ...ANNUNCIATION_STATES,
  'shelved',
  'suppressed',
  'out_of_service',
] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

export interface AlarmStatus {
  readonly annunciation: AnnunciationState;
  /** The process condition (after deadband and delays). */
  readonly active: boolean;
  /** Activations so far; an acknowledgement may name the one it means. */
  readonly activation: number;
  /** When the current (or last) activation happened, epoch ms. */
  readonly raisedAt?: number;
  readonly shelf?: { readonly until: number; readonly by: string; readonly reason: string };
  readonly suppressed: boolean;
  readonly outOfService?: { readonly by: string; readonly reason: string };
}

export const NEW_ALARM: AlarmStatus = {
  annunciation: 'normal',
  active: false,
  activation: 0,
  suppressed: false,
};

export type AlarmEvent =
  | { readonly type: 'activate'; readonly at: number }
  | { readonly type: 'clear'; readonly at: number }
  /** Acknowledge an active or returned alarm; on a `latched` one: reset it. */
  | { readonly type: 'acknowledge'; readonly at: number; readonly by: string }
  | {
      readonly type: 'shelve';
      readonly at: number;
      readonly by: string;
      readonly until: number;
      readonly reason: string;
    }
  | { readonly type: 'unshelve'; readonly at: number; readonly by: string }
  | { readonly type: 'shelf_expired'; readonly at: number }
  | { readonly type: 'suppress'; readonly at: number }
  | { readonly type: 'unsuppress'; readonly at: number }
  | {
      readonly type: 'remove_from_service';
      readonly at: number;
      readonly by: string;
      readonly reason: string;
    }
  | { readonly type: 'return_to_service'; readonly at: number; readonly by: string };

export type AlarmEventType = AlarmEvent['type'];

export type TransitionResult =
  | { readonly ok: true; readonly status: AlarmStatus }
  /** `duplicate`: already so, nothing to record; `not_allowed`: refused (an operator's error). */
  | { readonly ok: false; readonly why: 'duplicate' | 'not_allowed' };

/** What the alarm shows. */
export function stateOf(status: AlarmStatus): AlarmState {
  if (status.outOfService) return 'out_of_service';
  if (status.suppressed) return 'suppressed';
  if (status.shelf) return 'shelved';
  return status.annunciation;
}

export function isMasked(status: AlarmStatus): boolean {
  return stateOf(status) !== status.annunciation;
}

const refused = { ok: false, why: 'not_allowed' } as const;
const duplicate = { ok: false, why: 'duplicate' } as const;
const ok = (status: AlarmStatus): TransitionResult => ({ ok: true, status });

/** After the last mask is lifted, the alarm shows what its condition is now. */
function unmasked(status: AlarmStatus): AlarmStatus {
  if (status.outOfService || status.suppressed || status.shelf) return status;
  return { ...status, annunciation: status.active ? 'unacknowledged' : 'normal' };
}

/** `latched`: whether the alarm's definition latches. */
export function transition(
  status: AlarmStatus,
  event: AlarmEvent,
  latched: boolean,
): TransitionResult {
  const masked = isMasked(status);
  switch (event.type) {
    case 'activate': {
      if (status.active) return duplicate;
      const next = {
        ...status,
        active: true,
        activation: status.activation + 1,
        raisedAt: event.at,
      };
      if (masked) return ok(next);
      // A latched alarm waiting for its reset is raised again too.
      return ok({ ...next, annunciation: 'unacknowledged' });
    }
    case 'clear': {
      if (!status.active) return duplicate;
      const next = { ...status, active: false };
      if (masked) return ok(next);
      switch (status.annunciation) {
        case 'unacknowledged':
          return ok({ ...next, annunciation: latched ? 'latched' : 'returned_unacknowledged' });
        case 'acknowledged':
          return ok({ ...next, annunciation: latched ? 'latched' : 'normal' });
        case 'normal':
        case 'returned_unacknowledged':
        case 'latched':
          // Cannot be: an active alarm that is not masked is unacknowledged or acknowledged.
          return ok(next);
      }
      return ok(next);
    }
    case 'acknowledge': {
      if (masked) return refused;
      switch (status.annunciation) {
        case 'unacknowledged':
          return ok({ ...status, annunciation: 'acknowledged' });
        case 'returned_unacknowledged':
        case 'latched':
          return ok({ ...status, annunciation: 'normal' });
        case 'normal':
        case 'acknowledged':
          return refused;
      }
      return refused;
    }
    case 'shelve': {
      if (status.outOfService || status.suppressed || status.shelf) return refused;
      if (event.until <= event.at) return refused;
      return ok({ ...status, shelf: { until: event.until, by: event.by, reason: event.reason } });
    }
    case 'unshelve':
    case 'shelf_expired': {
      if (!status.shelf) return event.type === 'unshelve' ? refused : duplicate;
      if (event.type === 'shelf_expired' && event.at < status.shelf.until) return refused;
      const { shelf: _s, ...rest } = status;
      return ok(unmasked(rest));
    }
    case 'suppress': {
      if (status.suppressed) return duplicate;
      return ok({ ...status, suppressed: true });
    }
    case 'unsuppress': {
      if (!status.suppressed) return duplicate;
      return ok(unmasked({ ...status, suppressed: false }));
    }
    case 'remove_from_service': {
      if (status.outOfService) return refused;
      return ok({ ...status, outOfService: { by: event.by, reason: event.reason } });
    }
    case 'return_to_service': {
      if (!status.outOfService) return refused;
      const { outOfService: _o, ...rest } = status;
      return ok(unmasked(rest));
    }
  }
}

/** Whether an operator may act on it now (for the console's buttons; the server decides). */
export function canAcknowledge(status: AlarmStatus): boolean {
  return transition(status, { type: 'acknowledge', at: 0, by: '' }, false).ok;
}
