import type { AlarmDefinition, FieldLike } from './definitions.js';

/**
 * The process condition of one alarm, before the lifecycle: is the value beyond its limit,
 * counting the deadband and the on/off delays? `pendingSince` is when the change now waiting
 * for its delay was first seen (every sample since agreed).
 */
export interface ConditionState {
  readonly active: boolean;
  readonly pendingSince?: number;
}

export const CONDITION_NORMAL: ConditionState = { active: false };

export type ConditionChange = 'activate' | 'clear';

export interface ConditionStep {
  readonly condition: ConditionState;
  readonly change?: ConditionChange;
}

/** What a sample says: beyond the trip point, back inside by the deadband, or neither. */
export function classify(definition: AlarmDefinition, value: FieldLike): 'trip' | 'clear' | 'hold' {
  const s = definition.source;
  switch (s.kind) {
    case 'limit': {
      if (typeof value !== 'number') return 'hold';
      if (s.direction === 'above')
        return value > s.limit ? 'trip' : value < s.limit - s.deadband ? 'clear' : 'hold';
      return value < s.limit ? 'trip' : value > s.limit + s.deadband ? 'clear' : 'hold';
    }
    case 'discrete':
      return s.values.includes(value) ? 'trip' : 'clear';
    case 'event':
    case 'offline':
      return value === true ? 'trip' : 'clear';
  }
}

/**
 * One observation at `at`: the condition trips only after `onDelayMs` of samples beyond the
 * limit, and clears only after `offDelayMs` of samples back inside it by the deadband. A sample
 * in the deadband keeps the current condition and restarts a pending change.
 */
export function observe(
  definition: AlarmDefinition,
  condition: ConditionState,
  value: FieldLike,
  at: number,
): ConditionStep {
  const seen = classify(definition, value);
  const wanted = condition.active ? 'clear' : 'trip';
  if (seen !== wanted) return { condition: { active: condition.active } };
  const since = condition.pendingSince ?? at;
  return settle(definition, { active: condition.active, pendingSince: since }, at);
}

/** Time passing without a sample: a pending change whose delay has run out happens now. */
export function tick(
  definition: AlarmDefinition,
  condition: ConditionState,
  at: number,
): ConditionStep {
  if (condition.pendingSince === undefined) return { condition };
  return settle(definition, condition, at);
}

function settle(definition: AlarmDefinition, c: ConditionState, at: number): ConditionStep {
  const delay = c.active ? definition.offDelayMs : definition.onDelayMs;
  if (at - (c.pendingSince ?? at) < delay) return { condition: c };
  return c.active
    ? { condition: { active: false }, change: 'clear' }
    : { condition: { active: true }, change: 'activate' };
}
