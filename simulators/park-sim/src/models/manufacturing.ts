/**
 * Science City in depth: the production machines of a discrete-manufacturing site. Every machine
 * with a `state` runs the same shift-driven state machine (MachineCore); the models around it
 * add the physics of the machine type (spindle, servo, barrel heaters, compressed air, line).
 */
import { getAssetType, type FieldValue, type MachineState } from '@parkpulse/telemetry';
import type { EventSeverity, ModelContext } from './model.js';
import {
  Accumulator,
  BaseModel,
  HOUR_MS,
  MINUTE_MS,
  Ou,
  SECOND_MS,
  Toggle,
  clamp,
  deriveRng,
  deviceRng,
  expSample,
  gaussian,
  lagToward,
  localHour,
  occurs,
  pick,
  uniform,
  uniformInt,
  type Rng,
} from './util.js';

// ---------------------------------------------------------------------------------------------
// Shifts and the machine state machine

/** The allowed state transitions of a production machine (and of a production line). */
export const MACHINE_TRANSITIONS: Readonly<Record<MachineState, readonly MachineState[]>> = {
  running: ['idle', 'setup', 'fault'],
  idle: ['running', 'setup', 'maintenance'],
  setup: ['running', 'idle'],
  fault: ['maintenance'],
  maintenance: ['idle'],
};

/** Two production shifts a day, local time (UTC+8); 00:00–08:00 is the (mostly idle) night. */
export const SHIFTS = [
  { name: 'early', startH: 8, endH: 16 },
  { name: 'late', startH: 16, endH: 24 },
] as const;

/** Slot of the day: 0 night (00–08), 1 early shift (08–16), 2 late shift (16–24). */
export function shiftSlot(tMs: number): 0 | 1 | 2 {
  const h = localHour(tMs);
  return h < 8 ? 0 : h < 16 ? 1 : 2;
}

export const inShift = (tMs: number): boolean => shiftSlot(tMs) !== 0;

/** A fault announces itself: the precursor (vibration, temperature …) ramps up over this long. */
export const FAULT_PRECURSOR_S = { min: 120, max: 600 } as const;

/** Mean running hours between two faults, per machine type (a few faults per machine and day). */
export const MEAN_RUN_HOURS_BETWEEN_FAULTS = {
  cnc_machine: 5,
  industrial_robot: 7,
  injection_moulder: 6,
  air_compressor: 30,
  production_line: 8,
} as const;

/** The catalogue's warning threshold of a machine's vibration (the one dashboards draw). */
function vibrationWarning(assetType: 'cnc_machine' | 'industrial_robot'): number {
  const warning = getAssetType(assetType)?.metrics['vibration_mm_s']?.thresholds?.warning;
  if (warning === undefined)
    throw new Error(`catalogue: ${assetType}.vibration_mm_s has no thresholds`);
  return warning;
}

/**
 * Vibration velocity (mm/s RMS) of the machines that report it: the band of normal running
 * (ISO 10816 zones A/B), the warning threshold crossed by a fault's precursor, and the range of
 * the peak reached at the fault.
 */
export const VIBRATION_LIMITS = {
  cnc_machine: {
    normalMin: 0.4,
    normalMax: 2.8,
    warning: vibrationWarning('cnc_machine'),
    faultPeakMin: 7.5,
    faultPeakMax: 14,
  },
  industrial_robot: {
    normalMin: 0.2,
    normalMax: 1.8,
    warning: vibrationWarning('industrial_robot'),
    faultPeakMin: 5.5,
    faultPeakMax: 10,
  },
} as const;

export interface FaultKind {
  readonly code: string;
  readonly message: string;
  /** Controller error number (robots). */
  readonly errorCode?: number;
  /** The warning raised when the precursor is detected (machines without vibration). */
  readonly warning?: { readonly code: string; readonly message: string };
}

export interface MachineProfile {
  readonly label: string;
  readonly meanRunHoursBetweenFaults: number;
  readonly faults: readonly FaultKind[];
  /** Runs round the clock (a base-load compressor): no shift logic. */
  readonly continuous: boolean;
  /** Probability of a setup (changeover) when a shift starts. */
  readonly setupAtShiftStart: number;
  /** Mid-shift changeovers per running hour. */
  readonly changeoversPerHour: number;
  /** Short stops per running hour (material, breaks, quality checks). */
  readonly stopsPerHour: number;
  /** Probability of running on unattended into the night after the late shift. */
  readonly lightsOut: number;
  /** Probability of a scheduled maintenance in a given night. */
  readonly scheduledMaintenancePerNight: number;
  /** How long a fault waits for the technician, and how long the repair takes (minutes). */
  readonly faultMinutes: readonly [number, number];
  readonly repairMinutes: readonly [number, number];
}

type Emit = (code: string, severity: EventSeverity, message: string) => void;

interface Timer {
  readonly at: number;
  readonly to: MachineState;
  readonly reason: string;
}

const minutes = (rng: Rng, lo: number, hi: number) => uniform(rng, lo, hi) * MINUTE_MS;

/**
 * The shift-driven state machine of a production machine: running in the two shifts with short
 * stops and changeovers, idle at night (sometimes a lights-out run on), setups at shift starts,
 * faults after an exponentially distributed running time announced by a precursor ramp,
 * fault → maintenance → idle → running, and scheduled night maintenance. Only transitions in
 * MACHINE_TRANSITIONS happen.
 */
export class MachineCore {
  state: MachineState;
  /** 0 … 1: how far the precursor of the coming fault has progressed (0 = healthy). */
  precursor = 0;
  /** The coming (or, in `fault`, the current) fault. */
  fault: FaultKind;
  /** When the current state was entered (epoch ms). */
  since: number;
  private runToFaultS = 0;
  private precursorS = 0;
  private timer: Timer | undefined;
  private maintenanceAt: number | undefined;
  private recovering = false;
  private downSince = 0;
  private warned = false;

  constructor(
    private readonly rng: Rng,
    private readonly profile: MachineProfile,
    startMs: number,
    private readonly emit: Emit,
    private readonly canStart: () => boolean = () => true,
  ) {
    this.fault = this.drawFault();
    this.state = this.scheduled(startMs) ? 'running' : 'idle';
    this.since = startMs;
  }

  /** Whether the machine is planned to produce at `tMs`. */
  scheduled(tMs: number): boolean {
    return this.profile.continuous || inShift(tMs);
  }

  tick(t0: number, dtS: number): void {
    const t1 = t0 + dtS * SECOND_MS;
    if (this.state === 'running') {
      this.runToFaultS -= dtS;
      if (this.runToFaultS <= this.precursorS)
        this.precursor = clamp(1 - this.runToFaultS / this.precursorS, 0, 1);
      if (this.fault.warning && !this.warned && this.precursor >= 0.35) {
        this.warned = true;
        this.emit(this.fault.warning.code, 'warning', this.fault.warning.message);
      }
      if (this.runToFaultS <= 0) {
        this.enterFault(t1);
        return;
      }
    }
    if (!this.profile.continuous) {
      const s0 = shiftSlot(t0);
      const s1 = shiftSlot(t1);
      if (s0 !== s1) this.onShiftStart(s1, t1);
    }
    const timer = this.timer;
    if (timer && timer.at <= t1) {
      this.timer = undefined;
      this.onTimer(timer, t1);
    }
    if (this.maintenanceAt !== undefined && this.maintenanceAt <= t1) {
      if (this.state === 'idle' && !this.timer) {
        this.maintenanceAt = undefined;
        this.go('maintenance', t1, 'scheduled');
      } else if (localHour(t1) < 7) this.maintenanceAt = t1 + 15 * MINUTE_MS;
      else this.maintenanceAt = undefined;
    }
    if (this.state === 'running' && this.precursor === 0 && !this.timer && this.scheduled(t1)) {
      if (occurs(this.rng, this.profile.stopsPerHour / 3600, dtS)) this.go('idle', t1, 'stop');
      else if (occurs(this.rng, this.profile.changeoversPerHour / 3600, dtS))
        this.go('setup', t1, 'changeover');
    }
  }

  private drawFault(): FaultKind {
    this.precursorS = uniform(this.rng, FAULT_PRECURSOR_S.min, FAULT_PRECURSOR_S.max);
    this.runToFaultS =
      this.precursorS + 300 + expSample(this.rng, this.profile.meanRunHoursBetweenFaults * 3600);
    this.precursor = 0;
    this.warned = false;
    return pick(this.rng, this.profile.faults);
  }

  private enterFault(t: number): void {
    const fault = this.fault;
    this.go('fault', t, 'fault');
    this.emit(fault.code, 'critical', `${this.profile.label}: ${fault.message}`);
    this.recovering = true;
    this.downSince = t;
    const [lo, hi] = this.profile.faultMinutes;
    this.timer = { at: t + minutes(this.rng, lo, hi), to: 'maintenance', reason: 'repair' };
    this.fault = fault;
    this.nextFault = this.drawFault();
  }

  /** The fault after the current one (drawn at the fault, adopted when running again). */
  private nextFault: FaultKind | undefined;

  private go(to: MachineState, t: number, reason: string): void {
    const from = this.state;
    if (from === to || !MACHINE_TRANSITIONS[from].includes(to)) return;
    this.state = to;
    this.since = t;
    this.timer = undefined;
    switch (to) {
      case 'running':
        if (this.nextFault) {
          this.fault = this.nextFault;
          this.nextFault = undefined;
        }
        if (this.recovering) {
          this.recovering = false;
          const down = Math.round((t - this.downSince) / MINUTE_MS);
          this.emit(
            'MACHINE_RESUMED',
            'info',
            `${this.profile.label} running again after ${down} min`,
          );
        }
        if (!this.scheduled(t))
          this.timer = { at: t + minutes(this.rng, 30, 180), to: 'idle', reason: 'lights-out' };
        break;
      case 'idle':
        if (reason === 'stop')
          this.timer = { at: t + minutes(this.rng, 3, 20), to: 'running', reason: 'restart' };
        else if (this.scheduled(t))
          this.timer = { at: t + minutes(this.rng, 1, 8), to: 'running', reason: 'start' };
        break;
      case 'setup':
        this.timer = { at: t + minutes(this.rng, 10, 40), to: 'running', reason: 'setup done' };
        break;
      case 'maintenance': {
        const scheduled = reason === 'scheduled';
        this.timer = {
          at:
            t +
            (scheduled
              ? minutes(this.rng, 60, 180)
              : minutes(this.rng, this.profile.repairMinutes[0], this.profile.repairMinutes[1])),
          to: 'idle',
          reason: 'maintenance done',
        };
        this.emit(
          'MAINTENANCE_STARTED',
          'info',
          scheduled
            ? `${this.profile.label}: scheduled maintenance`
            : `${this.profile.label}: repair of ${this.fault.code}`,
        );
        break;
      }
      default:
        break;
    }
  }

  /** Leaves `running`, unless a fault is imminent: then the machine runs on until it fails. */
  private leaveRunning(to: MachineState, t: number, reason: string): void {
    if (this.state === 'running' && this.precursor > 0)
      this.timer = { at: t + MINUTE_MS, to, reason };
    else this.go(to, t, reason);
  }

  private onTimer(timer: Timer, t: number): void {
    switch (timer.to) {
      case 'running':
        if (!this.scheduled(t)) {
          if (this.state === 'setup') this.go('idle', t, 'end of shift');
        } else if (!this.canStart()) this.timer = { ...timer, at: t + MINUTE_MS };
        else this.go('running', t, timer.reason);
        break;
      case 'idle':
      case 'setup':
        this.leaveRunning(timer.to, t, timer.reason);
        break;
      default:
        this.go(timer.to, t, timer.reason);
    }
  }

  private onShiftStart(slot: 0 | 1 | 2, t: number): void {
    const rng = this.rng;
    if (slot === 0) {
      if (this.state === 'running') {
        if (rng() < this.profile.lightsOut)
          this.timer = { at: t + minutes(rng, 30, 180), to: 'idle', reason: 'lights-out' };
        else this.leaveRunning('idle', t, 'end of shift');
      } else if (this.state === 'setup') this.go('idle', t, 'end of shift');
      else if (this.state === 'idle') this.timer = undefined;
      if (rng() < this.profile.scheduledMaintenancePerNight)
        this.maintenanceAt = t + uniform(rng, 1, 5) * HOUR_MS;
      return;
    }
    if (this.state === 'idle') {
      if (rng() < this.profile.setupAtShiftStart) this.go('setup', t, 'shift start');
      else if (!this.timer)
        this.timer = { at: t + minutes(rng, 0, 10), to: 'running', reason: 'shift start' };
    } else if (
      this.state === 'running' &&
      slot === 2 &&
      !this.timer &&
      rng() < this.profile.setupAtShiftStart * 0.6
    )
      this.leaveRunning('setup', t, 'changeover');
  }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers of the machine models

/** A machine model: a MachineCore plus physics; exposes `state`. */
abstract class MachineModel extends BaseModel {
  protected readonly core: MachineCore;
  protected readonly phys: Rng;
  private lastState: MachineState;

  protected constructor(
    ctx: ModelContext,
    startMs: number,
    maxTickS: number,
    profile: MachineProfile,
  ) {
    super(ctx, startMs, maxTickS);
    this.core = new MachineCore(
      deriveRng(this.rng),
      profile,
      startMs,
      (c, s, m) => this.emit(c, s, m),
      () => this.canStart(),
    );
    this.phys = deriveRng(this.rng);
    this.lastState = this.core.state;
  }

  override get state(): MachineState {
    return this.core.state;
  }

  protected canStart(): boolean {
    return true;
  }

  /** Called when the state changed during a tick. */
  protected onState(_from: MachineState, _to: MachineState): void {}

  protected tick(t0: number, dtS: number): void {
    this.core.tick(t0, dtS);
    if (this.core.state !== this.lastState) {
      const from = this.lastState;
      this.lastState = this.core.state;
      this.onState(from, this.core.state);
    }
    this.physics(t0, dtS);
  }

  protected abstract physics(t0: number, dtS: number): void;
}

const faults = (
  ...list: [code: string, message: string, errorCode?: number, warning?: [string, string]][]
): FaultKind[] =>
  list.map(([code, message, errorCode, warning]) => ({
    code,
    message,
    ...(errorCode === undefined ? {} : { errorCode }),
    ...(warning ? { warning: { code: warning[0], message: warning[1] } } : {}),
  }));

/** Indoor workshop temperature: 24–30 °C, warmer in the afternoon. */
const workshopTemp = (tMs: number, offset: number) =>
  26 + offset + 2 * Math.cos((2 * Math.PI * (localHour(tMs) - 15)) / 24);

// ---------------------------------------------------------------------------------------------
// CNC machining centre

const CNC_PROFILE: MachineProfile = {
  label: 'CNC machining centre',
  meanRunHoursBetweenFaults: MEAN_RUN_HOURS_BETWEEN_FAULTS.cnc_machine,
  faults: faults(
    ['SPINDLE_OVERLOAD', 'spindle overload, axis stopped'],
    ['SPINDLE_BEARING_FAULT', 'spindle bearing damage detected'],
    ['TOOL_BREAKAGE', 'tool breakage detected'],
  ),
  continuous: false,
  setupAtShiftStart: 0.35,
  changeoversPerHour: 0.08,
  stopsPerHour: 0.4,
  lightsOut: 0.3,
  scheduledMaintenancePerNight: 0.12,
  faultMinutes: [5, 25],
  repairMinutes: [15, 60],
};

interface VibrationLimits {
  readonly normalMin: number;
  readonly normalMax: number;
  readonly warning: number;
  readonly faultPeakMin: number;
  readonly faultPeakMax: number;
}

/**
 * Vibration that climbs from its normal level towards a fault peak while a fault's precursor
 * runs, with one warning event per fault when it crosses the threshold (CNC spindle, robot wrist).
 */
class VibrationPrecursor {
  private peak = 0;
  private warned = false;

  constructor(
    private readonly limits: VibrationLimits,
    private readonly part: string,
  ) {}

  /** Draws the fault peak when a precursor starts, forgets it when none runs. */
  arm(p: number, r: Rng): void {
    if (p > 0 && this.peak === 0)
      this.peak = uniform(r, this.limits.faultPeakMin, this.limits.faultPeakMax);
    if (p === 0) this.peak = 0;
  }

  /** The vibration at precursor progress `p` over the `normal` level; warns once on crossing. */
  level(
    normal: number,
    p: number,
    emit: (code: string, severity: EventSeverity, message: string) => void,
  ): number {
    const vib = normal + p * Math.max(0, this.peak - normal);
    if (p > 0 && !this.warned && vib >= this.limits.warning) {
      this.warned = true;
      emit(
        'VIBRATION_HIGH',
        'warning',
        `${this.part} vibration ${vib.toFixed(1)} mm/s above ${this.limits.warning} mm/s`,
      );
    }
    return vib;
  }

  /** A new fault: the next precursor may warn again. */
  rearm(): void {
    this.warned = false;
  }
}

class CncMachine extends MachineModel {
  private readonly ratedSpindleKw = uniform(this.rng, 11, 30);
  private readonly maxRpm = pick(this.rng, [12000, 15000, 20000, 24000]);
  private readonly vibBase = uniform(this.rng, 0.9, 1.5);
  private readonly ambientOffset = uniform(this.rng, -1.5, 1.5);
  private readonly parts: Accumulator;
  private scrap: number;
  private readonly scrapRate = uniform(this.rng, 0.01, 0.03);
  // current job
  private cycleS = 0;
  private rpmNominal = 0;
  private feedNominal = 0;
  private loadNominal = 0;
  // dynamic
  private readonly loadNoise = new Ou(this.rng, 0, 7, 8);
  private readonly rpmNoise = new Ou(this.rng, 0, 0.01, 20);
  private readonly vibNoise = new Ou(this.rng, 0, 0.1, 5);
  private readonly door = new Toggle();
  private toolLifeS = 0;
  private toolChangeAt = 0;
  private wear = uniform(this.rng, 0, 60);
  private temp: number;
  private readonly precursor = new VibrationPrecursor(VIBRATION_LIMITS.cnc_machine, 'spindle');
  private rpm = 0;
  private feed = 0;
  private load = 0;
  private vib = 0.2;
  private power = 0;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 2, CNC_PROFILE);
    this.parts = new Accumulator(uniformInt(this.rng, 20_000, 600_000));
    this.scrap = Math.round(this.parts.count * this.scrapRate * uniform(this.rng, 0.8, 1.2));
    this.newJob();
    this.temp =
      workshopTemp(startMs, this.ambientOffset) + (this.core.state === 'running' ? 14 : 2);
  }

  private newJob(): void {
    const r = this.phys;
    this.cycleS = uniform(r, 40, 240);
    this.rpmNominal = Math.round(uniform(r, 0.35, 0.85) * this.maxRpm);
    this.feedNominal = uniform(r, 600, 6000);
    this.loadNominal = uniform(r, 35, 75);
    this.toolLifeS = uniform(r, 40, 120) * 60;
    this.toolChangeAt = uniform(r, 85, 98);
  }

  protected override onState(_from: MachineState, to: MachineState): void {
    if (to === 'setup') this.newJob();
    if (to === 'fault') this.precursor.rearm();
  }

  protected physics(t0: number, dtS: number): void {
    const r = this.phys;
    const s = this.core.state;
    const p = this.core.precursor;
    const t1 = t0 + dtS * SECOND_MS;
    this.loadNoise.step(dtS);
    this.rpmNoise.step(dtS);
    this.vibNoise.step(dtS);
    this.precursor.arm(p, r);

    if (s === 'running') {
      this.rpm = this.rpmNominal * (1 + this.rpmNoise.value);
      this.feed = this.feedNominal * (1 + 0.5 * this.rpmNoise.value);
      this.load = clamp(this.loadNominal + this.loadNoise.value + 30 * p, 2, 150);
      const made = this.parts.add(dtS / this.cycleS);
      for (let i = 0; i < made; i++) {
        const rate = this.scrapRate * (1 + 4 * p) * (this.wear > 85 ? 2 : 1);
        if (r() < rate) this.scrap++;
      }
      this.wear += (dtS / this.toolLifeS) * 100 * (0.5 + this.load / 100);
      if (this.wear >= this.toolChangeAt) {
        this.wear = uniform(r, 0, 1);
        this.toolChangeAt = uniform(r, 85, 98);
        this.emit('TOOL_CHANGED', 'info', 'worn tool replaced from the magazine');
      }
    } else {
      this.rpm = 0;
      this.feed = 0;
      this.load = 0;
    }

    const lim = VIBRATION_LIMITS.cnc_machine;
    const normal =
      s === 'running'
        ? clamp(
            this.vibBase * (0.8 + (0.4 * Math.min(this.load - 30 * p, 120)) / 100) +
              this.vibNoise.value,
            lim.normalMin,
            lim.normalMax,
          )
        : 0.12 + 0.5 * Math.abs(this.vibNoise.value);
    this.vib = this.precursor.level(normal, p, (c, sev, m) => this.emit(c, sev, m));

    const ambient = workshopTemp(t1, this.ambientOffset);
    const heat =
      s === 'running' ? 6 + (16 * this.rpm) / this.maxRpm + 0.05 * this.load + 12 * p : 0;
    this.temp = lagToward(this.temp, ambient + 1 + heat, dtS, heat > 0 ? 600 : 1500);

    const base =
      s === 'running' ? 4 : s === 'setup' ? 3 : s === 'idle' ? 2.4 : s === 'fault' ? 1.8 : 0.4;
    this.power = base + (this.ratedSpindleKw / 100) * this.load + 0.1 * gaussian(r);

    const [open, close] =
      s === 'running'
        ? [0, 1 / 5]
        : s === 'setup'
          ? [1 / 60, 1 / 120]
          : s === 'maintenance'
            ? [1 / 30, 1 / 1200]
            : s === 'fault'
              ? [1 / 300, 1 / 300]
              : [1 / 1800, 1 / 45];
    this.door.step(r, dtS, open, close);
  }

  protected sample(): Record<string, FieldValue> {
    return {
      state: this.core.state,
      spindle_rpm: Math.round(this.rpm),
      spindle_load_pct: this.load,
      feed_rate_mm_min: Math.round(this.feed),
      vibration_mm_s: this.vib,
      temperature_c: this.temp,
      power_kw: this.power,
      part_count: this.parts.count,
      scrap_count: this.scrap,
      tool_wear_pct: this.wear,
      door_open: this.door.on,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Industrial robot

const ROBOT_PROFILE: MachineProfile = {
  label: 'Industrial robot',
  meanRunHoursBetweenFaults: MEAN_RUN_HOURS_BETWEEN_FAULTS.industrial_robot,
  faults: faults(
    ['ROBOT_COLLISION', 'collision detected, servo power off', 1050],
    ['SERVO_OVERCURRENT', 'servo amplifier overcurrent on J2', 1023],
    ['REDUCER_FAULT', 'J4 reducer torque disturbance, stopped', 1310],
  ),
  continuous: false,
  setupAtShiftStart: 0.2,
  changeoversPerHour: 0.05,
  stopsPerHour: 0.5,
  lightsOut: 0.3,
  scheduledMaintenancePerNight: 0.1,
  faultMinutes: [3, 15],
  repairMinutes: [10, 45],
};

class IndustrialRobot extends MachineModel {
  private readonly ratedPayloadKg = pick(this.rng, [7, 12, 20, 35, 50, 165, 210]);
  private readonly ratedKw = 1.2 + 0.05 * this.ratedPayloadKg;
  private readonly vibBase = uniform(this.rng, 0.5, 1.0);
  private readonly ambientOffset = uniform(this.rng, -1.5, 1.5);
  private readonly cycles: Accumulator;
  private cycleNominalS = 0;
  private partKg = 0;
  private currentCycleS = 0;
  private lastCycleS = 0;
  private progress = 0;
  private readonly vibNoise = new Ou(this.rng, 0, 0.08, 4);
  private temp: number;
  private power = 0;
  private payload = 0;
  private vib = 0.1;
  private readonly precursor = new VibrationPrecursor(VIBRATION_LIMITS.industrial_robot, 'wrist');

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 1, ROBOT_PROFILE);
    this.cycles = new Accumulator(uniformInt(this.rng, 100_000, 3_000_000));
    this.newProgram();
    this.lastCycleS = this.cycleNominalS;
    this.currentCycleS = this.cycleNominalS;
    this.temp =
      workshopTemp(startMs, this.ambientOffset) + (this.core.state === 'running' ? 18 : 4);
  }

  private newProgram(): void {
    this.cycleNominalS = uniform(this.phys, 8, 60);
    this.partKg = this.ratedPayloadKg * uniform(this.phys, 0.3, 0.8);
  }

  protected override onState(_from: MachineState, to: MachineState): void {
    if (to === 'setup') this.newProgram();
    if (to === 'fault') this.precursor.rearm();
  }

  protected physics(t0: number, dtS: number): void {
    const r = this.phys;
    const s = this.core.state;
    const p = this.core.precursor;
    this.vibNoise.step(dtS);
    this.precursor.arm(p, r);
    let motion = 0;
    if (s === 'running') {
      this.progress += dtS / this.currentCycleS;
      while (this.progress >= 1) {
        this.progress -= 1;
        this.cycles.add(1);
        this.lastCycleS = this.currentCycleS;
        this.currentCycleS = this.cycleNominalS * (1 + 0.02 * gaussian(r) + 0.15 * p);
      }
      const phase = this.progress;
      this.payload = phase > 0.25 && phase < 0.7 ? this.partKg : 0;
      motion = 0.45 + 0.45 * Math.abs(Math.sin(2 * Math.PI * phase * 2)) + 0.05 * gaussian(r);
    } else {
      this.payload = s === 'fault' && this.progress > 0.25 && this.progress < 0.7 ? this.partKg : 0;
      motion = s === 'setup' && r() < 0.2 ? 0.15 : 0;
    }
    const servoOn = s === 'running' || s === 'idle' || s === 'setup';
    this.power =
      (servoOn ? 0.45 + 0.02 * this.ratedKw : s === 'fault' ? 0.3 : 0.12) +
      this.ratedKw * motion * (1 + (0.5 * this.payload) / this.ratedPayloadKg) * (1 + 0.15 * p);

    const lim = VIBRATION_LIMITS.industrial_robot;
    const normal =
      s === 'running'
        ? clamp(
            this.vibBase * (0.6 + 0.6 * motion) + this.vibNoise.value,
            lim.normalMin,
            lim.normalMax,
          )
        : 0.05 + 0.3 * Math.abs(this.vibNoise.value) + motion;
    this.vib = this.precursor.level(normal, p, (c, sev, m) => this.emit(c, sev, m));
    const ambient = workshopTemp(t0, this.ambientOffset);
    const heat = (30 * this.power) / (this.ratedKw + 0.5) + 8 * p;
    this.temp = lagToward(this.temp, ambient + 2 + heat, dtS, 1500);
  }

  protected sample(): Record<string, FieldValue> {
    const s = this.core.state;
    return {
      state: s,
      cycle_time_s: this.lastCycleS,
      cycle_count: this.cycles.count,
      joint_temp_max_c: this.temp,
      payload_kg: this.payload,
      power_kw: this.power,
      vibration_mm_s: this.vib,
      error_code: s === 'fault' ? (this.core.fault.errorCode ?? 1) : 0,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Injection moulding machine

const MOULDER_PROFILE: MachineProfile = {
  label: 'Injection moulding machine',
  meanRunHoursBetweenFaults: MEAN_RUN_HOURS_BETWEEN_FAULTS.injection_moulder,
  faults: faults(
    [
      'HEATER_FAULT',
      'barrel heater band zone 3 failed',
      undefined,
      ['BARREL_TEMP_DEVIATION', 'barrel temperature falling below the setpoint band'],
    ],
    [
      'HYDRAULIC_PUMP_FAULT',
      'hydraulic pump pressure lost',
      undefined,
      ['INJECTION_PRESSURE_HIGH', 'injection pressure rising, cycle time drifting'],
    ],
  ),
  continuous: false,
  setupAtShiftStart: 0.25,
  changeoversPerHour: 0.04,
  stopsPerHour: 0.3,
  lightsOut: 0.35,
  scheduledMaintenancePerNight: 0.1,
  faultMinutes: [5, 25],
  repairMinutes: [20, 75],
};

class InjectionMoulder extends MachineModel {
  private readonly heaterKw = uniform(this.rng, 8, 30);
  private readonly driveKw = uniform(this.rng, 10, 45);
  private readonly ambientOffset = uniform(this.rng, -1.5, 1.5);
  private readonly shots: Accumulator;
  private scrap: number;
  private readonly scrapRate = uniform(this.rng, 0.008, 0.03);
  private barrelSetpoint = 0;
  private mouldSetpoint = 0;
  private cycleNominalS = 0;
  private pressureNominal = 0;
  private currentCycleS = 0;
  private lastCycleS = 0;
  private lastPressure = 0;
  private progress = 0;
  private barrel: number;
  private mould: number;
  private power = 0;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 2, MOULDER_PROFILE);
    this.shots = new Accumulator(uniformInt(this.rng, 50_000, 2_000_000));
    this.scrap = Math.round(this.shots.count * this.scrapRate * uniform(this.rng, 0.8, 1.2));
    this.newMould();
    this.barrel = this.barrelSetpoint - (this.core.state === 'running' ? 0 : 40);
    this.mould = this.mouldSetpoint;
    this.lastCycleS = this.currentCycleS = this.cycleNominalS;
    this.lastPressure = this.pressureNominal;
  }

  private newMould(): void {
    const r = this.phys;
    this.barrelSetpoint = pick(r, [210, 225, 240, 260, 285, 300]) + uniform(r, -5, 5);
    this.mouldSetpoint = uniform(r, 40, 90);
    this.cycleNominalS = uniform(r, 15, 60);
    this.pressureNominal = uniform(r, 700, 1600);
  }

  protected override canStart(): boolean {
    return Math.abs(this.barrel - this.barrelSetpoint) < 8;
  }

  protected override onState(_from: MachineState, to: MachineState): void {
    if (to === 'setup') this.newMould();
  }

  protected physics(t0: number, dtS: number): void {
    const r = this.phys;
    const s = this.core.state;
    const p = this.core.precursor;
    const code = this.core.fault.code;
    const heaterP = code === 'HEATER_FAULT' ? p : 0;
    const hydraulicP = code === 'HYDRAULIC_PUMP_FAULT' ? p : 0;
    const ambient = workshopTemp(t0, this.ambientOffset);
    const idleLong =
      s === 'idle' && !this.core.scheduled(t0) && t0 - this.core.since > 45 * MINUTE_MS;
    const heatersOn = s === 'running' || s === 'setup' || s === 'idle';
    const barrelTarget = !heatersOn
      ? ambient
      : (idleLong ? this.barrelSetpoint - 60 : this.barrelSetpoint) - 30 * heaterP;
    const before = this.barrel;
    const tau = heatersOn && barrelTarget > before ? 700 : heaterP > 0 ? 400 : 2400;
    this.barrel = lagToward(this.barrel, barrelTarget, dtS, tau);
    const mouldOn = heatersOn && !idleLong;
    this.mould = lagToward(
      this.mould,
      mouldOn ? this.mouldSetpoint : ambient,
      dtS,
      mouldOn ? 500 : 3000,
    );

    let drive = 0;
    if (s === 'running') {
      this.progress += dtS / this.currentCycleS;
      while (this.progress >= 1) {
        this.progress -= 1;
        this.shots.add(1);
        const cold = Math.max(0, this.barrelSetpoint - this.barrel);
        this.lastCycleS = this.currentCycleS;
        this.lastPressure =
          this.pressureNominal * (1 + 0.015 * gaussian(r) + 0.25 * hydraulicP + 0.01 * cold);
        const rate = this.scrapRate * (1 + 5 * p) * (cold > 8 ? 4 : 1);
        if (r() < rate) this.scrap++;
        this.currentCycleS = this.cycleNominalS * (1 + 0.01 * gaussian(r) + 0.12 * hydraulicP);
      }
      // injection and plasticising draw the drive hard, cooling hardly
      const ph = this.progress;
      drive = ph < 0.15 ? 1 : ph < 0.3 ? 0.55 : ph < 0.75 ? 0.35 : 0.2;
    } else if (s === 'idle' || s === 'setup') drive = 0.04;
    const heaterDuty = heatersOn ? clamp(0.22 + (barrelTarget - this.barrel) / 12, 0, 1) : 0;
    this.power =
      0.8 +
      this.heaterKw * heaterDuty +
      this.driveKw * drive * (1 + 0.1 * hydraulicP) +
      0.1 * gaussian(r);
  }

  protected sample(): Record<string, FieldValue> {
    return {
      state: this.core.state,
      barrel_temp_c: this.barrel,
      mould_temp_c: this.mould,
      injection_pressure_bar: this.lastPressure,
      cycle_time_s: this.lastCycleS,
      shot_count: this.shots.count,
      scrap_count: this.scrap,
      power_kw: this.power,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Air compressor (variable-speed screw compressor feeding the site's compressed-air network)

const compressorProfile = (continuous: boolean): MachineProfile => ({
  label: 'Air compressor',
  meanRunHoursBetweenFaults: MEAN_RUN_HOURS_BETWEEN_FAULTS.air_compressor,
  faults: faults(
    [
      'HIGH_DISCHARGE_TEMP',
      'discharge temperature trip',
      undefined,
      ['DISCHARGE_TEMP_HIGH', 'discharge temperature rising above normal'],
    ],
    [
      'MAIN_MOTOR_OVERLOAD',
      'main motor overload trip',
      undefined,
      ['MOTOR_CURRENT_HIGH', 'main motor current rising above normal'],
    ],
  ),
  continuous,
  setupAtShiftStart: 0,
  changeoversPerHour: 0,
  stopsPerHour: 0,
  lightsOut: 0.6,
  scheduledMaintenancePerNight: continuous ? 0 : 0.08,
  faultMinutes: [5, 20],
  repairMinutes: [20, 60],
});

class AirCompressor extends MachineModel {
  private readonly fadM3Min: number;
  private readonly fullKw: number;
  private readonly setpointBar = uniform(this.rng, 6.5, 7.5);
  private readonly baseLoad: boolean;
  private readonly runHours: number;
  private runS = 0;
  private readonly demand = new Ou(this.rng, 0.75, 0.08, 300);
  private pressure: number;
  private discharge: number;
  private load = 0;
  private power = 0;

  constructor(ctx: ModelContext, startMs: number) {
    // Half of the compressors carry the base load round the clock, the others trim in the shifts.
    const base = deviceRng(ctx)() < 0.5;
    super(ctx, startMs, 5, compressorProfile(base));
    this.baseLoad = base;
    this.fadM3Min = uniform(this.rng, 8, 45);
    this.fullKw = this.fadM3Min * uniform(this.rng, 5.6, 6.6);
    this.runHours = uniform(this.rng, 5_000, 60_000);
    this.pressure = this.setpointBar;
    this.discharge = this.core.state === 'running' ? 82 : 35;
  }

  protected physics(t0: number, dtS: number): void {
    const s = this.core.state;
    const p = this.core.precursor;
    const code = this.core.fault.code;
    const t1 = t0 + dtS * SECOND_MS;
    const production = inShift(t1);
    this.demand.mean = production ? (this.baseLoad ? 0.8 : 0.65) : this.baseLoad ? 0.3 : 0.2;
    const demand = clamp(this.demand.step(dtS), 0.05, 1.2);
    const ambient = workshopTemp(t1, 2);
    if (s === 'running') {
      this.runS += dtS;
      this.load = clamp(demand, 0.15, 1);
      const sag = demand > 1 ? 0.6 * (demand - 1) : 0;
      this.pressure = lagToward(
        this.pressure,
        this.setpointBar - sag + 0.03 * gaussian(this.phys),
        dtS,
        20,
      );
      const hot = code === 'HIGH_DISCHARGE_TEMP' ? p : 0;
      this.discharge = lagToward(this.discharge, 72 + 16 * this.load + 35 * hot, dtS, 240);
      const overload = code === 'MAIN_MOTOR_OVERLOAD' ? p : 0;
      this.power = this.fullKw * (0.1 + 0.9 * this.load) * (1 + 0.18 * overload);
    } else {
      this.load = 0;
      const network = this.setpointBar - 0.3;
      this.pressure = lagToward(
        this.pressure,
        s === 'maintenance' ? 0 : network,
        dtS,
        s === 'maintenance' ? 60 : 120,
      );
      this.discharge = lagToward(this.discharge, ambient + 3, dtS, 1200);
      this.power = s === 'maintenance' ? 0 : 0.35;
    }
  }

  protected sample(): Record<string, FieldValue> {
    return {
      state: this.core.state,
      outlet_pressure_bar: this.pressure,
      flow_m3_min: this.fadM3Min * this.load,
      discharge_temp_c: this.discharge,
      power_kw: this.power,
      load_pct: this.load * 100,
      run_hours: this.runHours + this.runS / 3600,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Production line

const LINE_PROFILE: MachineProfile = {
  label: 'Production line',
  meanRunHoursBetweenFaults: MEAN_RUN_HOURS_BETWEEN_FAULTS.production_line,
  faults: faults(
    [
      'STATION_JAM',
      'part jammed at a station, line stopped',
      undefined,
      ['MICRO_STOPS', 'micro-stops increasing, performance falling'],
    ],
    [
      'CONVEYOR_FAULT',
      'conveyor drive fault, line stopped',
      undefined,
      ['CONVEYOR_CURRENT_HIGH', 'conveyor drive current rising'],
    ],
    [
      'QUALITY_GATE_STOP',
      'inline inspection stopped the line',
      undefined,
      ['QUALITY_DRIFT', 'inline inspection reports a drifting dimension'],
    ],
  ),
  continuous: false,
  setupAtShiftStart: 0.3,
  changeoversPerHour: 0.03,
  stopsPerHour: 0.5,
  lightsOut: 0.15,
  scheduledMaintenancePerNight: 0.1,
  faultMinutes: [3, 15],
  repairMinutes: [10, 40],
};

class ProductionLine extends MachineModel {
  private readonly taktS: number;
  private readonly idealCycleS: number;
  private readonly ratedKw = uniform(this.rng, 120, 600);
  private readonly scrapRate = uniform(this.rng, 0.008, 0.03);
  private readonly planned: Accumulator;
  private readonly made: Accumulator;
  private good: number;
  private scrap: number;
  private readonly performance: Ou;
  private power = 0;
  /** Planned production time and running time since commissioning (OEE's time base), s. */
  private plannedS: number;
  private runS: number;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 2, LINE_PROFILE);
    this.taktS =
      Math.round(pick(this.rng, [30, 45, 60, 72, 90, 120]) * uniform(this.rng, 0.95, 1.05) * 10) /
      10;
    this.idealCycleS = Math.round(this.taktS * uniform(this.rng, 0.8, 0.9) * 10) / 10;
    this.performance = new Ou(this.rng, uniform(this.rng, 0.88, 0.96), 0.025, 600);
    const total = uniformInt(this.rng, 100_000, 2_000_000);
    this.scrap = Math.round(total * this.scrapRate);
    this.good = total - this.scrap;
    this.made = new Accumulator(total);
    this.planned = new Accumulator(Math.round(total * uniform(this.rng, 1.08, 1.2)));
    // the history before the simulation: planned parts at takt, made parts at ~92 % of ideal speed
    this.plannedS = this.planned.count * this.taktS;
    this.runS = Math.round((total * this.idealCycleS) / 0.92);
  }

  protected physics(t0: number, dtS: number): void {
    const s = this.core.state;
    const p = this.core.precursor;
    const t1 = t0 + dtS * SECOND_MS;
    if (inShift(t1)) {
      this.planned.add(dtS / this.taktS);
      this.plannedS += dtS;
    }
    if (s === 'running') this.runS += dtS;
    const perf = clamp(this.performance.step(dtS) * (1 - 0.4 * p), 0.3, 1);
    if (s === 'running') {
      const n = this.made.add((dtS / this.idealCycleS) * perf);
      for (let i = 0; i < n; i++) {
        if (this.phys() < this.scrapRate * (1 + 4 * p)) this.scrap++;
        else this.good++;
      }
    }
    const share =
      s === 'running'
        ? 0.55 + 0.4 * perf
        : s === 'setup'
          ? 0.35
          : s === 'idle'
            ? 0.28
            : s === 'fault'
              ? 0.22
              : 0.08;
    this.power = this.ratedKw * share * (1 + 0.01 * gaussian(this.phys));
  }

  protected sample(): Record<string, FieldValue> {
    return {
      state: this.core.state,
      planned_output: this.planned.count,
      good_count: this.good,
      scrap_count: this.scrap,
      planned_time_s: this.plannedS,
      run_time_s: this.runS,
      ideal_cycle_time_s: this.idealCycleS,
      takt_time_s: this.taktS,
      power_kw: this.power,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Automated guided vehicle

export const AGV_STATES = ['moving', 'loading', 'unloading', 'charging', 'idle', 'fault'] as const;
export type AgvState = (typeof AGV_STATES)[number];

interface Point {
  x: number;
  y: number;
}

const AGV_FAULTS = [
  ['LIDAR_FAULT', 'safety laser scanner fault'],
  ['DRIVE_OVERCURRENT', 'traction drive overcurrent'],
  ['NAVIGATION_LOST', 'localisation lost, vehicle stopped'],
] as const;

class Agv extends BaseModel {
  private st: AgvState = 'idle';
  private readonly stations: Point[];
  private readonly charger: Point;
  private readonly cruise = uniform(this.rng, 1.0, 1.6);
  private readonly capacityKg = pick(this.rng, [300, 600, 1000, 1500]);
  private readonly phys: Rng;
  private x: number;
  private y: number;
  private path: Point[] = [];
  private purpose: 'pickup' | 'drop' | 'charger' = 'pickup';
  private speed = 0;
  private stopUntil = 0;
  private until = 0;
  private battery = uniform(this.rng, 50, 95);
  private chargeTarget = 95;
  private loadKg = 0;
  private odometerKm = uniform(this.rng, 2_000, 40_000);
  private obstacleStops = uniformInt(this.rng, 500, 20_000);
  private lowWarned = false;
  private station = 0;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 1);
    const ox = uniform(this.rng, -400, 400);
    const oy = uniform(this.rng, -400, 400);
    this.stations = Array.from({ length: 6 }, () => ({
      x: ox + uniform(this.rng, -80, 80),
      y: oy + uniform(this.rng, -50, 50),
    }));
    this.charger = { x: ox - 90, y: oy };
    this.phys = deriveRng(this.rng);
    const home = this.stations[0] ?? this.charger;
    this.x = home.x;
    this.y = home.y;
  }

  override get state(): AgvState {
    return this.st;
  }

  private route(to: Point, purpose: 'pickup' | 'drop' | 'charger'): void {
    this.path = [
      { x: to.x, y: this.y },
      { x: to.x, y: to.y },
    ];
    this.purpose = purpose;
    this.st = 'moving';
  }

  private otherStation(): number {
    const n = this.stations.length;
    return (this.station + 1 + Math.floor(this.phys() * (n - 1))) % n;
  }

  protected tick(t0: number, dtS: number): void {
    const r = this.phys;
    const t1 = t0 + dtS * SECOND_MS;
    const busy = inShift(t1);
    const lowLevel = busy ? 25 : 60;
    switch (this.st) {
      case 'idle':
        this.speed = 0;
        this.battery -= dtS / 3600;
        if (this.battery < lowLevel) this.route(this.charger, 'charger');
        else if (occurs(r, (busy ? 10 : 0.8) / 3600, dtS)) {
          this.station = this.otherStation();
          this.route(this.stations[this.station] ?? this.charger, 'pickup');
        }
        break;
      case 'moving': {
        this.battery -= (dtS / 3600) * (10 + (6 * this.loadKg) / this.capacityKg);
        if (this.battery < 15 && !this.lowWarned) {
          this.lowWarned = true;
          this.emit('BATTERY_LOW', 'warning', `battery at ${this.battery.toFixed(0)} %`);
        }
        if (occurs(r, 1 / (40 * 3600), dtS)) {
          const [code, message] = pick(r, AGV_FAULTS);
          this.st = 'fault';
          this.speed = 0;
          this.until = t1 + uniform(r, 5, 25) * MINUTE_MS;
          this.emit(code, 'critical', `AGV stopped: ${message}`);
          break;
        }
        if (t1 < this.stopUntil) {
          this.speed = 0;
          break;
        }
        if (occurs(r, 4 / 3600, dtS)) {
          this.stopUntil = t1 + uniform(r, 2, 12) * SECOND_MS;
          this.obstacleStops++;
          this.speed = 0;
          this.emit('OBSTACLE_STOP', 'info', 'safety stop: obstacle in the protective field');
          break;
        }
        const v0 = this.speed;
        this.speed = Math.min(this.cruise * (this.loadKg > 0 ? 0.85 : 1), this.speed + 0.6 * dtS);
        let dist = ((v0 + this.speed) / 2) * dtS;
        const planned = dist;
        while (dist > 0 && this.path.length > 0) {
          const wp = this.path[0] as Point;
          const d = Math.hypot(wp.x - this.x, wp.y - this.y);
          if (d <= dist) {
            this.x = wp.x;
            this.y = wp.y;
            dist -= d;
            this.path.shift();
          } else {
            this.x += ((wp.x - this.x) / d) * dist;
            this.y += ((wp.y - this.y) / d) * dist;
            dist = 0;
          }
        }
        this.odometerKm += (planned - dist) / 1000;
        if (this.path.length === 0) this.arrive(t1);
        break;
      }
      case 'loading':
      case 'unloading':
        this.speed = 0;
        this.battery -= (dtS / 3600) * 3;
        if (t1 >= this.until) {
          if (this.st === 'loading') {
            this.loadKg = this.capacityKg * uniform(r, 0.3, 0.95);
            this.station = this.otherStation();
            this.route(this.stations[this.station] ?? this.charger, 'drop');
          } else {
            this.loadKg = 0;
            if (this.battery < lowLevel + 5) this.route(this.charger, 'charger');
            else if (busy && r() < 0.5) {
              this.station = this.otherStation();
              this.route(this.stations[this.station] ?? this.charger, 'pickup');
            } else this.st = 'idle';
          }
        }
        break;
      case 'charging':
        this.speed = 0;
        this.battery += (dtS / 3600) * (this.battery < 80 ? 45 : 12);
        if (this.battery >= this.chargeTarget) {
          this.st = 'idle';
          this.lowWarned = false;
        }
        break;
      case 'fault':
        this.speed = 0;
        if (t1 >= this.until) {
          this.st = 'idle';
          this.emit('AGV_RESUMED', 'info', 'AGV released and back in the fleet');
        }
        break;
      default:
        break;
    }
    this.battery = clamp(this.battery, 1, 100);
  }

  private arrive(t: number): void {
    this.speed = 0;
    const r = this.phys;
    switch (this.purpose) {
      case 'pickup':
        this.st = 'loading';
        this.until = t + uniform(r, 20, 60) * SECOND_MS;
        break;
      case 'drop':
        this.st = 'unloading';
        this.until = t + uniform(r, 20, 60) * SECOND_MS;
        break;
      case 'charger':
        this.st = 'charging';
        this.chargeTarget = inShift(t) ? uniform(r, 85, 92) : uniform(r, 95, 99);
        break;
      default:
        break;
    }
  }

  protected sample(): Record<string, FieldValue> {
    return {
      state: this.st,
      battery_pct: this.battery,
      speed_m_s: this.speed,
      pos_x_m: this.x,
      pos_y_m: this.y,
      load_kg: this.loadKg,
      odometer_km: this.odometerKm,
      obstacle_stops: this.obstacleStops,
    };
  }
}

// ---------------------------------------------------------------------------------------------

export const createCncMachine = (ctx: ModelContext, startMs: number) =>
  new CncMachine(ctx, startMs);
export const createIndustrialRobot = (ctx: ModelContext, startMs: number) =>
  new IndustrialRobot(ctx, startMs);
export const createInjectionMoulder = (ctx: ModelContext, startMs: number) =>
  new InjectionMoulder(ctx, startMs);
export const createAirCompressor = (ctx: ModelContext, startMs: number) =>
  new AirCompressor(ctx, startMs);
export const createProductionLine = (ctx: ModelContext, startMs: number) =>
  new ProductionLine(ctx, startMs);
export const createAgv = (ctx: ModelContext, startMs: number) => new Agv(ctx, startMs);
