import { describe, expect, it } from 'vitest';
import {
  ALARM_STATES,
  NEW_ALARM,
  stateOf,
  transition,
  type AlarmEvent,
  type AlarmEventType,
  type AlarmState,
  type AlarmStatus,
} from './state-machine.js';

const T = 1_764_000_000_000;
const shelf = { until: T + 60_000, by: 'olga', reason: 'sensor being replaced' };

/** One status per state the alarm can show, active or not where both exist. */
const STATUSES: Record<string, AlarmStatus> = {
  normal: NEW_ALARM,
  unacknowledged: {
    ...NEW_ALARM,
    annunciation: 'unacknowledged',
    active: true,
    activation: 1,
    raisedAt: T,
  },
  acknowledged: {
    ...NEW_ALARM,
    annunciation: 'acknowledged',
    active: true,
    activation: 1,
    raisedAt: T,
  },
  returned_unacknowledged: {
    ...NEW_ALARM,
    annunciation: 'returned_unacknowledged',
    activation: 1,
    raisedAt: T,
  },
  latched: { ...NEW_ALARM, annunciation: 'latched', activation: 1, raisedAt: T },
  'shelved (inactive)': { ...NEW_ALARM, shelf },
  'shelved (active)': { ...NEW_ALARM, active: true, activation: 1, raisedAt: T, shelf },
  'suppressed (inactive)': { ...NEW_ALARM, suppressed: true },
  'suppressed (active)': {
    ...NEW_ALARM,
    active: true,
    activation: 1,
    raisedAt: T,
    suppressed: true,
  },
  'out_of_service (inactive)': {
    ...NEW_ALARM,
    outOfService: { by: 'olga', reason: 'maintenance' },
  },
  'out_of_service (active)': {
    ...NEW_ALARM,
    active: true,
    activation: 1,
    raisedAt: T,
    outOfService: { by: 'olga', reason: 'maintenance' },
  },
};

const EVENTS: Record<AlarmEventType, AlarmEvent> = {
  activate: { type: 'activate', at: T + 1000 },
  clear: { type: 'clear', at: T + 1000 },
  acknowledge: { type: 'acknowledge', at: T + 1000, by: 'olga' },
  shelve: { type: 'shelve', at: T + 1000, by: 'olga', until: T + 61_000, reason: 'nuisance' },
  unshelve: { type: 'unshelve', at: T + 1000, by: 'olga' },
  shelf_expired: { type: 'shelf_expired', at: T + 60_000 },
  suppress: { type: 'suppress', at: T + 1000 },
  unsuppress: { type: 'unsuppress', at: T + 1000 },
  remove_from_service: { type: 'remove_from_service', at: T + 1000, by: 'olga', reason: 'repair' },
  return_to_service: { type: 'return_to_service', at: T + 1000, by: 'olga' },
};

type Outcome = AlarmState | 'duplicate' | 'not_allowed';
const D = 'duplicate' as const;
const X = 'not_allowed' as const;

/**
 * Every state × every event, non-latching definition: the state shown after, or why nothing
 * changed. Rows in the order of EVENTS' keys.
 */
const TABLE: Record<string, Record<AlarmEventType, Outcome>> = {
  normal: {
    activate: 'unacknowledged',
    clear: D,
    acknowledge: X,
    shelve: 'shelved',
    unshelve: X,
    shelf_expired: D,
    suppress: 'suppressed',
    unsuppress: D,
    remove_from_service: 'out_of_service',
    return_to_service: X,
  },
  unacknowledged: {
    activate: D,
    clear: 'returned_unacknowledged',
    acknowledge: 'acknowledged',
    shelve: 'shelved',
    unshelve: X,
    shelf_expired: D,
    suppress: 'suppressed',
    unsuppress: D,
    remove_from_service: 'out_of_service',
    return_to_service: X,
  },
  acknowledged: {
    activate: D,
    clear: 'normal',
    acknowledge: X,
    shelve: 'shelved',
    unshelve: X,
    shelf_expired: D,
    suppress: 'suppressed',
    unsuppress: D,
    remove_from_service: 'out_of_service',
    return_to_service: X,
  },
  returned_unacknowledged: {
    activate: 'unacknowledged',
    clear: D,
    acknowledge: 'normal',
    shelve: 'shelved',
    unshelve: X,
    shelf_expired: D,
    suppress: 'suppressed',
    unsuppress: D,
    remove_from_service: 'out_of_service',
    return_to_service: X,
  },
  latched: {
    activate: 'unacknowledged',
    clear: D,
    acknowledge: 'normal',
    shelve: 'shelved',
    unshelve: X,
    shelf_expired: D,
    suppress: 'suppressed',
    unsuppress: D,
    remove_from_service: 'out_of_service',
    return_to_service: X,
  },
  'shelved (inactive)': {
    activate: 'shelved',
    clear: D,
    acknowledge: X,
    shelve: X,
    unshelve: 'normal',
    shelf_expired: 'normal',
    suppress: 'suppressed',
    unsuppress: D,
    remove_from_service: 'out_of_service',
    return_to_service: X,
  },
  'shelved (active)': {
    activate: D,
    clear: 'shelved',
    acknowledge: X,
    shelve: X,
    unshelve: 'unacknowledged',
    shelf_expired: 'unacknowledged',
    suppress: 'suppressed',
    unsuppress: D,
    remove_from_service: 'out_of_service',
    return_to_service: X,
  },
  'suppressed (inactive)': {
    activate: 'suppressed',
    clear: D,
    acknowledge: X,
    shelve: X,
    unshelve: X,
    shelf_expired: D,
    suppress: D,
    unsuppress: 'normal',
    remove_from_service: 'out_of_service',
    return_to_service: X,
  },
  'suppressed (active)': {
    activate: D,
    clear: 'suppressed',
    acknowledge: X,
    shelve: X,
    unshelve: X,
    shelf_expired: D,
    suppress: D,
    unsuppress: 'unacknowledged',
    remove_from_service: 'out_of_service',
    return_to_service: X,
  },
  'out_of_service (inactive)': {
    activate: 'out_of_service',
    clear: D,
    acknowledge: X,
    shelve: X,
    unshelve: X,
    shelf_expired: D,
    suppress: 'out_of_service',
    unsuppress: D,
    remove_from_service: X,
    return_to_service: 'normal',
  },
  'out_of_service (active)': {
    activate: D,
    clear: 'out_of_service',
    acknowledge: X,
    shelve: X,
    unshelve: X,
    shelf_expired: D,
    suppress: 'out_of_service',
    unsuppress: D,
    remove_from_service: X,
    return_to_service: 'unacknowledged',
  },
};

describe('alarm lifecycle (ISA-18.2)', () => {
  it('covers every state the model has', () => {
    const shown = new Set(Object.values(STATUSES).map(stateOf));
    expect([...shown].sort()).toEqual([...ALARM_STATES].sort());
  });

  for (const [from, row] of Object.entries(TABLE))
    for (const [type, expected] of Object.entries(row) as [AlarmEventType, Outcome][])
      it(`${from} + ${type} → ${expected}`, () => {
        const r = transition(STATUSES[from]!, EVENTS[type], false);
        if (expected === 'duplicate' || expected === 'not_allowed')
          expect(r).toEqual({ ok: false, why: expected });
        else {
          expect(r.ok).toBe(true);
          if (r.ok) expect(stateOf(r.status)).toBe(expected);
        }
      });

  it('counts an activation and remembers when it was raised', () => {
    const r = transition(STATUSES['returned_unacknowledged']!, EVENTS.activate, false);
    expect(r).toEqual({
      ok: true,
      status: {
        ...NEW_ALARM,
        annunciation: 'unacknowledged',
        active: true,
        activation: 2,
        raisedAt: T + 1000,
      },
    });
  });

  it('counts an activation while masked without annunciating it', () => {
    const r = transition(STATUSES['shelved (inactive)']!, EVENTS.activate, false);
    expect(r).toEqual({
      ok: true,
      status: { ...NEW_ALARM, shelf, active: true, activation: 1, raisedAt: T + 1000 },
    });
  });

  describe('latched alarms', () => {
    it('unacknowledged + clear → latched (not returned-unacknowledged)', () => {
      const r = transition(STATUSES['unacknowledged']!, EVENTS.clear, true);
      expect(r.ok && stateOf(r.status)).toBe('latched');
    });
    it('acknowledged + clear → latched: waits for the reset', () => {
      const r = transition(STATUSES['acknowledged']!, EVENTS.clear, true);
      expect(r.ok && stateOf(r.status)).toBe('latched');
    });
    it('latched + acknowledge (reset) → normal', () => {
      const r = transition(STATUSES['latched']!, EVENTS.acknowledge, true);
      expect(r.ok && stateOf(r.status)).toBe('normal');
    });
    it('latched + activate → unacknowledged again', () => {
      const r = transition(STATUSES['latched']!, EVENTS.activate, true);
      expect(r.ok && r.status).toMatchObject({ annunciation: 'unacknowledged', activation: 2 });
    });
  });

  describe('masks', () => {
    it('a shelf cannot expire before its time', () => {
      expect(
        transition(STATUSES['shelved (active)']!, { type: 'shelf_expired', at: T + 59_999 }, false),
      ).toEqual({
        ok: false,
        why: 'not_allowed',
      });
    });
    it('a shelf must end in the future', () => {
      expect(
        transition(NEW_ALARM, { type: 'shelve', at: T, by: 'olga', until: T, reason: 'x' }, false),
      ).toEqual({ ok: false, why: 'not_allowed' });
    });
    it('keeps who shelved it, why and until when', () => {
      const r = transition(STATUSES['unacknowledged']!, EVENTS.shelve, false);
      expect(r.ok && r.status.shelf).toEqual({ until: T + 61_000, by: 'olga', reason: 'nuisance' });
    });
    it('a shelved alarm that gets suppressed stays shelved underneath: unsuppress → shelved', () => {
      const s1 = transition(STATUSES['shelved (active)']!, EVENTS.suppress, false);
      expect(s1.ok).toBe(true);
      const s2 = s1.ok ? transition(s1.status, EVENTS.unsuppress, false) : s1;
      expect(s2.ok && stateOf(s2.status)).toBe('shelved');
    });
    it('returning to service while still suppressed by design shows suppressed', () => {
      const s1 = transition(STATUSES['out_of_service (active)']!, EVENTS.suppress, false);
      const s2 = s1.ok ? transition(s1.status, EVENTS.return_to_service, false) : s1;
      expect(s2.ok && stateOf(s2.status)).toBe('suppressed');
    });
    it('what happened while masked is what shows after: active then cleared → normal', () => {
      let s: AlarmStatus = STATUSES['unacknowledged']!;
      for (const e of [EVENTS.remove_from_service, EVENTS.clear, EVENTS.return_to_service]) {
        const r = transition(s, e, false);
        if (!r.ok) throw new Error(r.why);
        s = r.status;
      }
      expect(stateOf(s)).toBe('normal');
    });
  });
});
