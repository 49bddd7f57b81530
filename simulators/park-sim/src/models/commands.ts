import {
  checkCommand,
  commandsOf,
  type CommandParams,
  type FieldValue,
} from '@parkpulse/telemetry';
import type { DeviceModel, ModelOutput } from './model.js';

/**
 * What a simulated device answers to a command: a refusal at once, or acceptance followed after
 * `afterMs` (real time: a device's work does not run faster with the simulation's speed factor)
 * by `done` or `failed` with what it reports back.
 */
export type CommandOutcome =
  | { readonly status: 'rejected'; readonly reason: string; readonly message: string }
  | {
      readonly status: 'done' | 'failed';
      readonly afterMs: number;
      readonly result: CommandParams;
      readonly reason?: string;
      readonly message?: string;
    };

/** One `cmd_result` body, without the command id and time the device adds (contract §5b). */
export type AnswerBody = { readonly status: string } & Readonly<Record<string, unknown>>;

/**
 * What a device answers for an outcome: `rejected` at once, or `accepted` now and the final
 * status after `afterMs` (`later`). A command past its deadline is refused without looking.
 */
export function answersFor(outcome: CommandOutcome | 'expired'): {
  readonly now: AnswerBody;
  readonly later?: { readonly afterMs: number; readonly body: AnswerBody };
} {
  if (outcome === 'expired')
    return {
      now: { status: 'rejected', reason: 'expired', message: 'received after its deadline' },
    };
  if (outcome.status === 'rejected')
    return { now: { status: 'rejected', reason: outcome.reason, message: outcome.message } };
  return {
    now: { status: 'accepted' },
    later: {
      afterMs: outcome.afterMs,
      body: {
        status: outcome.status,
        result: outcome.result,
        ...(outcome.reason ? { reason: outcome.reason } : {}),
        ...(outcome.message ? { message: outcome.message } : {}),
      },
    },
  };
}

/** A device model that also takes commands. */
export interface CommandableModel extends DeviceModel {
  command(name: string, params: CommandParams, tMs: number): CommandOutcome;
}

const reject = (reason: string, message: string): CommandOutcome => ({
  status: 'rejected',
  reason,
  message,
});

/**
 * Wraps a device model with its asset type's commands (the catalogue's `ASSET_COMMANDS`). The
 * physics stay the model's; a command changes what the device then reports, as the real asset
 * would: a dimmed light draws less power, a new setpoint pulls the temperature along with a
 * time constant, a stopped machine goes idle and stops counting parts. Commands that make no
 * sense in the device's state are refused with a reason, and the device checks every parameter
 * itself (a command that did not come through the operations service is no safer).
 */
export function withCommands(model: DeviceModel, assetType: string): CommandableModel {
  const behaviour = BEHAVIOURS[assetType]?.() ?? undefined;
  let last: Record<string, FieldValue> = {};
  return {
    get state() {
      return behaviour?.state?.(last) ?? model.state;
    },
    step(tMs: number): ModelOutput {
      const out = model.step(tMs);
      if (!behaviour) return out;
      const metrics = { ...out.metrics };
      behaviour.apply(metrics, tMs);
      last = metrics;
      return { metrics, events: out.events };
    },
    incident(kind, tMs, durationMs) {
      return model.incident?.(kind, tMs, durationMs) ?? false;
    },
    command(name, params, tMs) {
      const check = checkCommand(assetType, name, params);
      if (!check.ok) return reject(check.code, check.detail);
      if (!behaviour) return reject('unsupported', `${assetType} takes no commands`);
      const spec = commandsOf(assetType)[name]!;
      return behaviour.command(name, check.params, tMs, last, spec.typicalDurationS * 1000);
    },
  };
}

interface Behaviour {
  /** Changes a reading in place after the model produced it. */
  apply(metrics: Record<string, FieldValue>, tMs: number): void;
  command(
    name: string,
    params: CommandParams,
    tMs: number,
    last: Readonly<Record<string, FieldValue>>,
    durationMs: number,
  ): CommandOutcome;
  state?(last: Readonly<Record<string, FieldValue>>): string | undefined;
}

const num = (v: FieldValue | undefined, fallback = 0) => (typeof v === 'number' ? v : fallback);
const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
/** First-order lag: the share of a step change reached after `dtMs` with time constant `tauMs`. */
const reached = (dtMs: number, tauMs: number) => 1 - Math.exp(-Math.max(0, dtMs) / tauMs);

const BEHAVIOURS: Readonly<Record<string, () => Behaviour>> = {
  street_light: () => {
    let level: number | undefined;
    let forced: boolean | undefined;
    return {
      apply(m) {
        const ratedW =
          num(m['dimming_pct']) > 0 ? num(m['power_w']) / (num(m['dimming_pct']) / 100) : 150;
        const on = forced ?? m['on'] === true;
        m['on'] = on;
        if (!on) {
          m['dimming_pct'] = 0;
          m['power_w'] = round(Math.min(num(m['power_w']), 0.6), 1); // driver standby
          return;
        }
        const pct = level ?? (num(m['dimming_pct']) || 100);
        m['dimming_pct'] = pct;
        m['power_w'] = round((ratedW * pct) / 100, 1);
      },
      command(name, params, _t, last, afterMs) {
        if (last['fault'] === true)
          return reject('lamp_fault', 'the lamp or its driver is faulted');
        if (name === 'dim') level = params['level_pct'] as number;
        else forced = params['on'] as boolean;
        return {
          status: 'done',
          afterMs,
          result: name === 'dim' ? { dimming_pct: level! } : { on: forced! },
        };
      },
    };
  },
  building_hvac: () => {
    let setpoint: { value: number; since: number; from: number } | undefined;
    let mode: string | undefined;
    const tau = 120_000;
    return {
      apply(m, t) {
        if (mode) m['mode'] = mode;
        if (mode === 'off') {
          m['fan_speed_pct'] = 0;
          m['chw_valve_pct'] = 0;
          m['power_kw'] = round(num(m['power_kw']) * 0.05);
        }
        if (setpoint) {
          const modelSp = num(m['supply_air_setpoint_c'], setpoint.value);
          m['supply_air_setpoint_c'] = setpoint.value;
          const shift = (setpoint.value - modelSp) * reached(t - setpoint.since, tau);
          m['supply_air_temp_c'] = round(num(m['supply_air_temp_c']) + shift);
        }
      },
      command(name, params, t, last, afterMs) {
        if (last['fault'] === true) return reject('unit_fault', 'the air-handling unit is faulted');
        if (name === 'set_mode') {
          mode = params['mode'] as string;
          return { status: 'done', afterMs, result: { mode } };
        }
        const value = params['setpoint_c'] as number;
        setpoint = { value, since: t, from: num(last['supply_air_setpoint_c'], value) };
        return { status: 'done', afterMs, result: { supply_air_setpoint_c: value } };
      },
    };
  },
  bsl_laboratory: () => {
    let until: number | undefined;
    return {
      apply(m, t) {
        if (until !== undefined && t >= until) until = undefined;
        if (until === undefined) return;
        m['mode'] = 'decontamination';
        m['door_open'] = false;
        m['anteroom_door_open'] = false;
        m['exhaust_fan_speed_pct'] = round(Math.min(100, num(m['exhaust_fan_speed_pct']) * 1.2), 1);
      },
      command(name, params, t, last, afterMs) {
        if (name === 'end_decontamination') {
          if (until === undefined)
            return reject('wrong_state', 'no decontamination cycle is running');
          until = undefined;
          return { status: 'done', afterMs, result: { mode: 'operational' } };
        }
        if (until !== undefined)
          return reject('wrong_state', 'a decontamination cycle is already running');
        if (last['door_open'] === true || last['anteroom_door_open'] === true)
          return reject('doors_open', 'close both doors before sealing the laboratory');
        if (last['containment_ok'] === false)
          return reject('containment_lost', 'containment is not established');
        until = t + (params['duration_min'] as number) * 60_000;
        return { status: 'done', afterMs, result: { mode: 'decontamination' } };
      },
      state: () => (until !== undefined ? 'decontamination' : undefined),
    };
  },
  cnc_machine: () => {
    let stopped = false;
    // Parts are not made while stopped: the counter holds, and goes on from there (it only grows).
    let frozen: number | undefined;
    let offset = 0;
    return {
      apply(m) {
        const raw = num(m['part_count']);
        if (stopped) {
          frozen ??= raw - offset;
          offset = raw - frozen;
          m['state'] = 'idle';
          m['spindle_rpm'] = 0;
          m['spindle_load_pct'] = 0;
          m['feed_rate_mm_min'] = 0;
          m['vibration_mm_s'] = round(Math.min(num(m['vibration_mm_s']), 0.3));
          m['power_kw'] = round(Math.min(num(m['power_kw']), 1.8));
        } else frozen = undefined;
        if ('part_count' in m) m['part_count'] = raw - offset;
      },
      command(name, _params, _t, last, afterMs) {
        const state = last['state'];
        if (!stopped && (state === 'fault' || state === 'maintenance'))
          return reject('wrong_state', `the machine is in ${String(state)}`);
        stopped = name === 'stop';
        return { status: 'done', afterMs, result: { state: stopped ? 'idle' : 'running' } };
      },
      state: () => (stopped ? 'idle' : undefined),
    };
  },
  ultra_low_freezer: () => {
    let setpoint: { value: number; since: number } | undefined;
    const tau = 600_000;
    return {
      apply(m, t) {
        if (!setpoint) return;
        const modelSp = num(m['setpoint_c'], setpoint.value);
        m['setpoint_c'] = setpoint.value;
        m['cabinet_temp_c'] = round(
          num(m['cabinet_temp_c']) + (setpoint.value - modelSp) * reached(t - setpoint.since, tau),
        );
      },
      command(_name, params, t, last, afterMs) {
        if (last['defrost'] === true) return reject('wrong_state', 'a defrost cycle is running');
        setpoint = { value: params['setpoint_c'] as number, since: t };
        return { status: 'done', afterMs, result: { setpoint_c: setpoint.value } };
      },
    };
  },
  ev_charger: () => {
    let limitKw: number | undefined;
    let stoppedSession = false;
    return {
      apply(m) {
        if (stoppedSession) {
          if (m['state'] !== 'charging') stoppedSession = false;
          else {
            m['state'] = 'available';
            m['power_kw'] = 0;
            m['current_a'] = 0;
            return;
          }
        }
        const p = num(m['power_kw']);
        if (limitKw !== undefined && p > limitKw) {
          m['current_a'] = round(num(m['current_a']) * (limitKw / p), 1);
          m['power_kw'] = limitKw;
        }
      },
      command(name, params, _t, last, afterMs) {
        if (name === 'set_power_limit') {
          limitKw = params['limit_kw'] as number;
          return { status: 'done', afterMs, result: { limit_kw: limitKw } };
        }
        if (last['state'] !== 'charging' || stoppedSession)
          return reject('not_charging', 'no vehicle is charging');
        stoppedSession = true;
        return { status: 'done', afterMs, result: { state: 'available' } };
      },
    };
  },
};
