/** Bio Island: containment laboratories (pressure cascade) and ultra-low temperature freezers. */
import type { FieldValue } from '@parkpulse/telemetry';
import type { Incident, ModelContext } from './model.js';
import {
  BaseModel,
  Ou,
  SECOND_MS,
  clamp,
  hashUnit,
  lagToward,
  localDay,
  localHour,
  occurs,
  officeOccupancy,
  pick,
  uniform,
  uniformInt,
} from './util.js';

/**
 * The pressure cascade of a BSL-3 suite, relative to the corridor (0 Pa): the anteroom is
 * negative, the lab more negative, so that air always flows corridor → anteroom → lab.
 */
export const BSL_CASCADE = {
  corridorPa: 0,
  anteroomSetpointPa: -15,
  labSetpointPa: -35,
  /** While the outer door (corridor ↔ anteroom) is open. */
  outerDoorOpen: { anteroomPa: -4, labPa: -33 },
  /** While the inner door (anteroom ↔ lab) is open. */
  innerDoorOpen: { anteroomPa: -21, labPa: -26 },
} as const;

type BslMode = 'operational' | 'unoccupied' | 'decontamination' | 'maintenance';

interface DoorPlan {
  readonly door: 'outer' | 'inner';
  readonly at: number;
  readonly openS: number;
}

class BslLaboratory extends BaseModel {
  private readonly volumeM3 = uniform(this.rng, 80, 200);
  private readonly achOperational = uniform(this.rng, 12, 15);
  private readonly exhaustRatio = uniform(this.rng, 1.12, 1.18);
  private readonly fanBase = uniform(this.rng, 55, 68);
  private readonly hepaSupply = uniform(this.rng, 180, 300);
  private readonly hepaExhaust = uniform(this.rng, 200, 320);
  private readonly key = Math.floor(this.rng() * 4294967296);
  private readonly labNoise = new Ou(this.rng, 0, 0.6, 3);
  private readonly anteNoise = new Ou(this.rng, 0, 0.5, 3);
  private readonly tempNoise = new Ou(this.rng, 0, 0.25, 900);
  private readonly humNoise = new Ou(this.rng, 0, 2.5, 1800);
  private mode: BslMode = 'unoccupied';
  private lab: number = BSL_CASCADE.labSetpointPa;
  private ante: number = BSL_CASCADE.anteroomSetpointPa;
  private outerOpenUntil = 0;
  private innerOpenUntil = 0;
  private plan: DoorPlan[] = [];
  private fanTripUntil = 0;
  private cascadeLost = false;
  private ach = 0;
  private fan = 0;
  private temp = 21;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 1);
    this.mode = this.scheduledMode(startMs);
  }

  override get state(): BslMode {
    return this.mode;
  }

  /** Operational in working hours; decontamination and maintenance on rare, planned days. */
  private scheduledMode(t: number): BslMode {
    const h = localHour(t);
    const day = localDay(t);
    if (hashUnit(this.key, day, 1) < 0.03 && (h >= 20 || h < 4)) return 'decontamination';
    if (hashUnit(this.key, day, 2) < 0.02 && h >= 9 && h < 13) return 'maintenance';
    return officeOccupancy(t) > 0.15 ? 'operational' : 'unoccupied';
  }

  private get doorsClosed(): boolean {
    return this.outerOpenUntil <= this.now && this.innerOpenUntil <= this.now;
  }

  /** A person passes through the anteroom: in (outer, gowning, inner) or out (inner, degowning, outer). */
  private planPassage(at: number): void {
    const r = this.rng;
    const entering = r() < 0.5;
    const first: DoorPlan['door'] = entering ? 'outer' : 'inner';
    const second: DoorPlan['door'] = entering ? 'inner' : 'outer';
    const firstOpen = uniform(r, 3, 7);
    const gap = uniform(r, entering ? 60 : 30, entering ? 180 : 120);
    this.plan.push({ door: first, at, openS: firstOpen });
    this.plan.push({
      door: second,
      at: at + (firstOpen + gap) * SECOND_MS,
      openS: uniform(r, 3, 7),
    });
  }

  protected tick(t0: number, dtS: number): void {
    const r = this.rng;
    const t1 = t0 + dtS * SECOND_MS;
    this.mode = this.scheduledMode(t1);
    const occ = officeOccupancy(t1);
    if (this.mode === 'operational' && this.plan.length === 0 && occurs(r, (7 * occ) / 3600, dtS))
      this.planPassage(t1);
    if (this.mode === 'maintenance' && this.plan.length === 0 && occurs(r, 2 / 3600, dtS))
      this.planPassage(t1);
    // doors open as planned (never both at once: the interlock holds the second one)
    while (this.plan.length > 0) {
      const d = this.plan[0] as DoorPlan;
      if (d.at > t1) break;
      const otherOpen = d.door === 'outer' ? this.innerOpenUntil > t1 : this.outerOpenUntil > t1;
      if (otherOpen) {
        this.plan[0] = { ...d, at: t1 + SECOND_MS };
        break;
      }
      this.plan.shift();
      const until = Math.max(d.at, t0) + d.openS * SECOND_MS;
      if (d.door === 'outer') this.outerOpenUntil = until;
      else this.innerOpenUntil = until;
      this.emit(
        'DOOR_OPEN',
        'info',
        d.door === 'outer'
          ? 'anteroom door (corridor side) opened'
          : 'inner door (lab side) opened',
      );
    }
    if (this.fanTripUntil <= t1 && occurs(r, 1 / (5 * 24 * 3600), dtS)) {
      this.fanTripUntil = t1 + uniform(r, 20, 60) * SECOND_MS;
      this.emit('EXHAUST_FAN_TRIP', 'critical', 'duty exhaust fan tripped, standby fan starting');
    }
    const tripped = this.fanTripUntil > t1;

    let anteTarget: number = BSL_CASCADE.anteroomSetpointPa;
    let labTarget: number = BSL_CASCADE.labSetpointPa;
    let tau = 6;
    if (tripped) {
      anteTarget = -1;
      labTarget = 4;
      tau = 8;
    } else if (this.outerOpenUntil > t1) {
      anteTarget = BSL_CASCADE.outerDoorOpen.anteroomPa;
      labTarget = BSL_CASCADE.outerDoorOpen.labPa;
      tau = 1.5;
    } else if (this.innerOpenUntil > t1) {
      anteTarget = BSL_CASCADE.innerDoorOpen.anteroomPa;
      labTarget = BSL_CASCADE.innerDoorOpen.labPa;
      tau = 1.5;
    }
    this.ante = lagToward(this.ante, anteTarget, dtS, tau);
    this.lab = lagToward(this.lab, labTarget, dtS, tau);
    this.labNoise.step(dtS);
    this.anteNoise.step(dtS);

    const lab = this.lab + this.labNoise.value;
    const ante = this.ante + this.anteNoise.value;
    const lost = lab >= ante || ante >= 0;
    if (lost && !this.cascadeLost)
      this.emit(
        'CASCADE_LOST',
        'critical',
        `pressure cascade inverted: lab ${lab.toFixed(1)} Pa, anteroom ${ante.toFixed(1)} Pa`,
      );
    else if (!lost && this.cascadeLost)
      this.emit('CASCADE_RESTORED', 'info', 'pressure cascade restored');
    this.cascadeLost = lost;

    this.ach =
      this.mode === 'decontamination'
        ? 2
        : this.mode === 'unoccupied'
          ? this.achOperational * 0.75
          : this.achOperational;
    const doorBoost = this.outerOpenUntil > t1 || this.innerOpenUntil > t1 ? 8 : 0;
    this.fan = tripped
      ? 0
      : clamp(this.fanBase * (0.6 + (0.4 * this.ach) / this.achOperational) + doorBoost, 0, 100);
    this.temp = lagToward(this.temp, 20.5 + 1.2 * occ + this.tempNoise.step(dtS), dtS, 1200);
    this.humNoise.step(dtS);
  }

  protected sample(): Record<string, FieldValue> {
    const supply = this.ach * this.volumeM3;
    const tripped = this.fanTripUntil > this.now;
    const exhaust = supply * this.exhaustRatio * (tripped ? 0.2 : 1);
    const lab = this.lab + this.labNoise.value;
    const ante = this.ante + this.anteNoise.value;
    const share = this.ach / this.achOperational;
    return {
      mode: this.mode,
      room_pressure_pa: lab,
      anteroom_pressure_pa: ante,
      room_pressure_setpoint_pa: BSL_CASCADE.labSetpointPa,
      air_changes_per_h: this.ach,
      supply_airflow_m3_h: supply,
      exhaust_airflow_m3_h: exhaust,
      hepa_supply_dp_pa: this.hepaSupply * share ** 1.5,
      hepa_exhaust_dp_pa:
        this.hepaExhaust *
        (exhaust / (this.achOperational * this.volumeM3 * this.exhaustRatio)) ** 1.5,
      exhaust_fan_speed_pct: this.fan,
      temperature_c: this.temp,
      humidity_pct: 50 + this.humNoise.value,
      door_open: this.innerOpenUntil > this.now,
      anteroom_door_open: this.outerOpenUntil > this.now,
      containment_ok: !this.cascadeLost && !tripped,
    };
  }

  protected override decimals(): number {
    return 1;
  }
}

// ---------------------------------------------------------------------------------------------

/** Defrost cycles of the ultra-low freezers: every few hours the cabinet warms by several degrees. */
export const FREEZER_DEFROST = {
  intervalH: { min: 4, max: 6 },
  durationMin: { min: 20, max: 30 },
  riseC: { min: 4, max: 7 },
} as const;

/** High-temperature alarm and backup cooling thresholds, above the setpoint. */
export const FREEZER_ALARM_ABOVE_SETPOINT_C = 10;
export const FREEZER_BACKUP_ABOVE_SETPOINT_C = 15;
/** How long the cabinet must stay above the alarm threshold before the alarm is raised, s. */
export const FREEZER_ALARM_DELAY_S = 600;

class UltraLowFreezer extends BaseModel {
  private readonly setpoint = pick(this.rng, [-80, -80, -80, -86, -78]);
  private readonly compressorKw = uniform(this.rng, 0.9, 1.3);
  private readonly ambientBase = uniform(this.rng, 20, 24);
  private readonly leakTauS = uniform(this.rng, 36_000, 48_000);
  private readonly coolRate = uniform(this.rng, 0.32, 0.4) / 60; // °C/s with the compressor on
  private readonly intervalS =
    uniform(this.rng, FREEZER_DEFROST.intervalH.min, FREEZER_DEFROST.intervalH.max) * 3600;
  private cabinet: number;
  private condenser: number;
  private compressorOn = false;
  private nextDefrost: number;
  private defrostUntil = 0;
  private defrostHeat = 0;
  private doorUntil = 0;
  private doorOpenings: number;
  private energyKwh: number;
  private alarm = false;
  private aboveS = 0;
  private backup = false;
  private power = 0.12;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 10);
    this.cabinet = this.setpoint + uniform(this.rng, -1, 1);
    this.condenser = this.ambientBase + 10;
    this.nextDefrost = startMs + this.rng() * this.intervalS * SECOND_MS;
    this.doorOpenings = uniformInt(this.rng, 1_000, 30_000);
    this.energyKwh = 0.55 * 8760 * uniform(this.rng, 0.5, 8);
  }

  /** A door left ajar: open from `tMs` for `durationMs` (the cabinet warms about 2.5 °C a minute). */
  incident(kind: Incident, tMs: number, durationMs: number): boolean {
    if (kind !== 'door-ajar') return false;
    this.doorUntil = Math.max(this.doorUntil, tMs + durationMs);
    this.doorOpenings++;
    this.emit('DOOR_AJAR', 'warning', 'freezer door left ajar');
    return true;
  }

  private ambient(t: number): number {
    return this.ambientBase + 1.2 * Math.cos((2 * Math.PI * (localHour(t) - 15)) / 24);
  }

  protected tick(t0: number, dtS: number): void {
    const r = this.rng;
    const t1 = t0 + dtS * SECOND_MS;
    const amb = this.ambient(t1);
    if (this.defrostUntil <= t0 && this.nextDefrost <= t1) {
      const dur = uniform(r, FREEZER_DEFROST.durationMin.min, FREEZER_DEFROST.durationMin.max) * 60;
      const rise = uniform(r, FREEZER_DEFROST.riseC.min, FREEZER_DEFROST.riseC.max);
      this.defrostUntil = t1 + dur * SECOND_MS;
      this.defrostHeat = rise / dur - (amb - this.cabinet) / this.leakTauS;
      this.nextDefrost = t1 + this.intervalS * uniform(r, 0.95, 1.05) * SECOND_MS;
      this.emit('DEFROST_START', 'info', `defrost cycle started (${Math.round(dur / 60)} min)`);
    }
    const defrost = this.defrostUntil > t1;
    if (
      !defrost &&
      this.doorUntil <= t1 &&
      occurs(r, (1.2 * officeOccupancy(t1) + 0.02) / 3600, dtS)
    ) {
      this.doorUntil = t1 + uniform(r, 10, 60) * SECOND_MS;
      this.doorOpenings++;
      this.emit('DOOR_OPEN', 'info', 'freezer door opened');
    }
    const doorOpen = this.doorUntil > t1;
    // thermostat with hysteresis; off during defrost
    if (defrost) this.compressorOn = false;
    else if (this.cabinet > this.setpoint + 1) this.compressorOn = true;
    else if (this.cabinet < this.setpoint - 1) this.compressorOn = false;
    this.backup = this.cabinet > this.setpoint + FREEZER_BACKUP_ABOVE_SETPOINT_C;

    let dT = (amb - this.cabinet) / this.leakTauS;
    if (this.compressorOn) dT -= this.coolRate;
    if (defrost) dT += this.defrostHeat;
    if (doorOpen) dT += 0.08;
    if (this.backup) dT -= 0.05;
    this.cabinet += dT * dtS;

    // the alarm needs the cabinet above the threshold for a while (no alarm for a quick door opening)
    const alarmAt = this.setpoint + FREEZER_ALARM_ABOVE_SETPOINT_C;
    this.aboveS = this.cabinet > alarmAt ? this.aboveS + dtS : 0;
    const alarm =
      this.aboveS >= FREEZER_ALARM_DELAY_S || (this.alarm && this.cabinet > alarmAt - 2);
    if (alarm && !this.alarm)
      this.emit('HIGH_TEMP_ALARM', 'critical', `cabinet at ${this.cabinet.toFixed(1)} °C`);
    this.alarm = alarm;

    this.condenser = lagToward(this.condenser, amb + (this.compressorOn ? 18 : 4), dtS, 180);
    this.power = this.compressorOn
      ? this.compressorKw * (1 + 0.01 * (amb - 22))
      : defrost
        ? 0.62
        : 0.12;
    this.energyKwh += (this.power * dtS) / 3600;
  }

  protected sample(): Record<string, FieldValue> {
    return {
      cabinet_temp_c: this.cabinet,
      setpoint_c: this.setpoint,
      ambient_temp_c: this.ambient(this.now),
      condenser_temp_c: this.condenser,
      compressor_on: this.compressorOn,
      door_open: this.doorUntil > this.now,
      door_openings: this.doorOpenings,
      defrost: this.defrostUntil > this.now,
      high_temp_alarm: this.alarm,
      backup_cooling_active: this.backup,
      power_kw: this.power,
      energy_kwh: this.energyKwh,
    };
  }
}

export const createBslLaboratory = (ctx: ModelContext, startMs: number) =>
  new BslLaboratory(ctx, startMs);
export const createUltraLowFreezer = (ctx: ModelContext, startMs: number) =>
  new UltraLowFreezer(ctx, startMs);
