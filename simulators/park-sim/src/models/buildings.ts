/** Yuzhu's smart office buildings: air-handling units and elevators, driven by office hours. */
import type { FieldValue } from '@parkpulse/telemetry';
import type { ModelContext } from './model.js';
import {
  BaseModel,
  MINUTE_MS,
  Ou,
  SECOND_MS,
  bump,
  clamp,
  lagToward,
  localDay,
  localHour,
  localWeekday,
  occurs,
  officeOccupancy,
  pick,
  uniform,
  uniformInt,
} from './util.js';
import { ParkWeather } from './weather.js';

/** When the air-handling units of an office building run (local time). */
export const HVAC_SCHEDULE = {
  weekdayStartH: 7,
  weekdayEndH: 20,
  saturdayStartH: 8,
  saturdayEndH: 14,
} as const;

export function hvacScheduled(tMs: number): boolean {
  const h = localHour(tMs);
  const wd = localWeekday(tMs);
  if (wd === 0) return false;
  if (wd === 6) return h >= HVAC_SCHEDULE.saturdayStartH && h < HVAC_SCHEDULE.saturdayEndH;
  return h >= HVAC_SCHEDULE.weekdayStartH && h < HVAC_SCHEDULE.weekdayEndH;
}

type HvacMode = 'off' | 'cooling' | 'heating' | 'fan_only' | 'dehumidifying' | 'economiser';

class BuildingHvac extends BaseModel {
  private readonly designAirflow = uniform(this.rng, 20_000, 120_000);
  private readonly fanKw = (this.designAirflow / 2000) * uniform(this.rng, 0.8, 1.2);
  private readonly minOa = uniform(this.rng, 20, 30);
  private readonly zoneSetpoint = uniform(this.rng, 24, 25.5);
  private readonly weather: ParkWeather;
  private readonly noise = new Ou(this.rng, 0, 0.25, 120);
  private mode: HvacMode = 'off';
  private supply: number;
  private ret: number;
  private co2 = 450;
  private chwSupply = 7;
  private valve = 0;
  private fan = 0;
  private oa = 0;
  private fouling = uniform(this.rng, 130, 320);
  private runHours: number;
  private faultUntil = 0;
  private power = 0.1;
  private setpoint = 18;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 15);
    this.weather = new ParkWeather(ctx.seed, ctx.park);
    this.runHours = uniform(this.rng, 5_000, 50_000);
    const out = this.weather.at(startMs).tempC;
    this.ret = clamp(out, 22, 29);
    this.supply = this.ret;
  }

  override get state(): HvacMode {
    return this.mode;
  }

  protected tick(t0: number, dtS: number): void {
    const r = this.rng;
    const t1 = t0 + dtS * SECOND_MS;
    const w = this.weather.at(t1);
    const occ = officeOccupancy(t1);
    const faulted = this.faultUntil > t1;
    if (this.faultUntil > t0 && this.faultUntil <= t1)
      this.emit('AHU_RESTORED', 'info', 'air-handling unit reset and running');
    const on = hvacScheduled(t1) && !faulted;
    if (on && occurs(r, 1 / (5 * 24 * 3600), dtS)) {
      this.faultUntil = t1 + uniform(r, 20, 90) * MINUTE_MS;
      this.emit(
        'AHU_FAULT',
        'critical',
        pick(r, ['supply fan VFD trip', 'freeze-stat trip', 'supply air sensor failure']),
      );
    }
    const purge = on && localHour(t1) < HVAC_SCHEDULE.weekdayStartH + 0.5 && localWeekday(t1) !== 6;
    if (!on || this.faultUntil > t1) this.mode = 'off';
    else if (purge) this.mode = 'fan_only';
    else if (w.tempC < 12) this.mode = 'heating';
    else if (w.tempC < 19 && w.humidityPct < 80) this.mode = 'economiser';
    else if (w.humidityPct > 85 && w.tempC < 26) this.mode = 'dehumidifying';
    else this.mode = 'cooling';

    const m = this.mode;
    this.setpoint =
      m === 'heating'
        ? 30
        : m === 'dehumidifying'
          ? 12
          : m === 'economiser'
            ? 16
            : m === 'cooling'
              ? 13.5
              : 18;
    this.oa = m === 'off' ? 0 : m === 'economiser' || m === 'fan_only' ? 100 : this.minOa;
    const mixed = (this.oa / 100) * w.tempC + (1 - this.oa / 100) * this.ret;
    const coolingDemand =
      m === 'cooling' || m === 'dehumidifying' || m === 'economiser'
        ? clamp((mixed - this.setpoint) / 13, 0, 1)
        : 0;
    this.valve =
      clamp(100 * coolingDemand + (m === 'dehumidifying' ? 20 : 0) + 3 * this.noise.value, 0, 100) *
      (coolingDemand > 0 ? 1 : 0);
    this.fan =
      m === 'off'
        ? 0
        : clamp(45 + 35 * Math.max(coolingDemand, 0.7 * occ) + 10 * this.noise.value, 30, 100);
    this.noise.step(dtS);

    if (m === 'off') {
      this.supply = lagToward(this.supply, this.ret, dtS, 1800);
    } else {
      const target =
        m === 'fan_only'
          ? mixed
          : m === 'economiser'
            ? Math.max(this.setpoint, Math.min(mixed, this.setpoint + 2))
            : this.setpoint;
      this.supply = lagToward(this.supply, target + 0.2 * this.noise.value, dtS, 300);
    }
    // Zone (return air): internal gains by occupancy, envelope gains from outdoors, the AHU's supply.
    const zoneFree = 0.6 * w.tempC + 0.4 * 27 + 3 * occ;
    const zoneTarget = m === 'off' ? zoneFree : this.zoneSetpoint + 0.8 * occ - 0.4;
    this.ret = lagToward(this.ret, zoneTarget, dtS, m === 'off' ? 5400 : 1200);
    const co2Target = 430 + 650 * occ * (1 - (0.5 * this.oa) / 100) * (m === 'off' ? 1.5 : 1);
    this.co2 = lagToward(this.co2, co2Target, dtS, 1800);
    this.chwSupply = lagToward(this.chwSupply, coolingDemand > 0 ? 7 : 16, dtS, 900);

    if (m !== 'off') {
      this.runHours += dtS / 3600;
      this.fouling += (dtS / 3600) * 0.25;
      if (this.fouling > 350) {
        this.fouling = uniform(r, 110, 130);
        this.emit('FILTER_REPLACED', 'info', 'filter bank replaced');
      }
    }
    this.power = m === 'off' ? 0.1 : 0.3 + this.fanKw * (this.fan / 100) ** 3;
  }

  protected sample(): Record<string, FieldValue> {
    const flowShare = this.fan / 100;
    return {
      mode: this.mode,
      supply_air_temp_c: this.supply,
      return_air_temp_c: this.ret,
      supply_air_setpoint_c: this.setpoint,
      chw_supply_temp_c: this.chwSupply,
      chw_return_temp_c: this.chwSupply + 5.5 * (this.valve / 100) + (this.valve > 0 ? 0.5 : 0.2),
      chw_valve_pct: this.valve,
      fan_speed_pct: this.fan,
      airflow_m3_h: this.designAirflow * flowShare,
      outdoor_air_damper_pct: this.oa,
      filter_dp_pa: this.fouling * flowShare * flowShare,
      return_co2_ppm: this.co2,
      power_kw: this.power,
      run_hours: this.runHours,
      fault: this.faultUntil > this.now,
    };
  }
}

// ---------------------------------------------------------------------------------------------

type ElevatorState =
  'idle' | 'moving_up' | 'moving_down' | 'loading' | 'inspection' | 'out_of_service' | 'fault';

/** Passenger calls per minute for one car at a local time (up-peak, lunch, down-peak). */
export function elevatorDemandPerMin(tMs: number): number {
  const h = localHour(tMs);
  const wd = localWeekday(tMs);
  const weekday = wd >= 1 && wd <= 5 ? 1 : wd === 6 ? 0.35 : 0.15;
  const peaks =
    2.2 * bump(h, 8.9, 1) +
    1.5 * bump(h, 12.2, 1.2) +
    1.2 * bump(h, 13.3, 0.8) +
    1.8 * bump(h, 18, 1.2);
  return 0.03 + weekday * (0.5 * officeOccupancy(tMs) + peaks);
}

class Elevator extends BaseModel {
  private readonly basements = uniformInt(this.rng, 1, 3);
  private readonly levels = this.basements + uniformInt(this.rng, 18, 45);
  private readonly ratedSpeed = pick(this.rng, [1.75, 2.5, 4, 6]);
  private readonly ratedLoad = pick(this.rng, [1000, 1350, 1600]);
  private readonly floorHeight = 3.8;
  private readonly accel = 0.9;
  private readonly parksAtNight = this.rng() < 0.3;
  private readonly inspectionPhase = uniformInt(this.rng, 0, 13);
  private st: ElevatorState = 'idle';
  /** car position, as a level index (0 = lowest basement) */
  private pos: number;
  private from = 0;
  private to = 0;
  private moveStart = 0;
  private moveDur = 0;
  private phaseEnd = 0;
  private next: 'deliver' | 'idle' = 'idle';
  private dest = 0;
  private passengersKg = 0;
  private loadKg = 0;
  private trips: number;
  private doorCycles: number;
  private runHours: number;
  private motorTemp: number;
  private power = 0.6;
  private speed = 0;
  private alarmUntil = 0;
  private faultUntil = 0;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 1);
    this.pos = this.basements;
    this.trips = uniformInt(this.rng, 50_000, 2_000_000);
    this.doorCycles = Math.round(this.trips * uniform(this.rng, 1.8, 2.2));
    this.runHours = uniform(this.rng, 2_000, 30_000);
    this.motorTemp = 28;
  }

  override get state(): ElevatorState {
    return this.st;
  }

  private lobby(): number {
    return this.basements;
  }

  private travelTime(levels: number): number {
    const d = Math.abs(levels) * this.floorHeight;
    const v = this.ratedSpeed;
    return d > (v * v) / this.accel ? d / v + v / this.accel : 2 * Math.sqrt(d / this.accel);
  }

  /** Speed (m/s) at `tau` seconds into a run of `dur` seconds (trapezoidal profile). */
  private speedAt(tau: number, dur: number): number {
    return Math.max(0, Math.min(this.ratedSpeed, this.accel * tau, this.accel * (dur - tau)));
  }

  private startMove(target: number, at: number): void {
    this.from = Math.round(this.pos);
    this.to = target;
    this.moveStart = at;
    this.moveDur = this.travelTime(target - this.from);
    this.phaseEnd = at + this.moveDur * SECOND_MS;
    this.st = target > this.from ? 'moving_up' : 'moving_down';
    this.trips++;
  }

  private openDoors(at: number, seconds: number): void {
    this.st = 'loading';
    this.phaseEnd = at + seconds * SECOND_MS;
    this.doorCycles++;
  }

  /** A passenger call at `at`: up-peak from the lobby, down-peak to it, inter-floor otherwise. */
  private call(at: number): void {
    const r = this.rng;
    const h = localHour(at);
    const top = this.levels - 1;
    const upper = () => this.basements + 1 + Math.floor(r() * (top - this.basements));
    let origin: number;
    let dest: number;
    const u = r();
    if (h < 11 && u < 0.75) {
      origin = r() < 0.8 ? this.lobby() : Math.floor(r() * this.basements);
      dest = upper();
    } else if (h >= 16.5 && u < 0.7) {
      origin = upper();
      dest = r() < 0.7 ? this.lobby() : Math.floor(r() * this.basements);
    } else {
      origin = Math.floor(r() * this.levels);
      dest = Math.floor(r() * this.levels);
      if (dest === origin) dest = origin === top ? origin - 1 : origin + 1;
    }
    const peak = elevatorDemandPerMin(at) > 2;
    this.passengersKg = Math.min(this.ratedLoad, 70 * (1 + Math.floor(r() * (peak ? 12 : 3))));
    this.dest = dest;
    this.next = 'deliver';
    if (origin === Math.round(this.pos)) this.openDoors(at, uniform(r, 6, 12));
    else {
      this.loadKg = 0;
      this.startMove(origin, at);
    }
  }

  /** The scheduled state (inspection, night parking) that overrides service, or undefined. */
  private scheduledOut(t: number): ElevatorState | undefined {
    const h = localHour(t);
    if ((localDay(t) + this.inspectionPhase) % 14 === 0 && h >= 2 && h < 4) return 'inspection';
    const wd = localWeekday(t);
    if (this.parksAtNight && h >= 0.5 && h < 6 && wd >= 1 && wd <= 5) return 'out_of_service';
    return undefined;
  }

  protected tick(t0: number, dtS: number): void {
    const r = this.rng;
    const t1 = t0 + dtS * SECOND_MS;
    const moving = this.st === 'moving_up' || this.st === 'moving_down';
    if (this.alarmUntil <= t1 && occurs(r, 1 / (3 * 24 * 3600), dtS)) {
      this.alarmUntil = t1 + uniform(r, 20, 60) * SECOND_MS;
      this.emit('ALARM_BUTTON', 'warning', 'passenger alarm button pressed');
    }
    if (moving && occurs(r, 1 / (4 * 24 * 3600 * 0.25), dtS)) {
      this.st = 'fault';
      this.pos = Math.round(this.pos);
      this.faultUntil = t1 + uniform(r, 15, 120) * MINUTE_MS;
      this.emit(
        'ELEVATOR_FAULT',
        'critical',
        pick(r, ['door lock circuit open', 'overspeed governor tripped', 'drive fault']),
      );
      if (this.loadKg > 0 && r() < 0.3) {
        this.alarmUntil = t1 + uniform(r, 5, 15) * MINUTE_MS;
        this.emit('ENTRAPMENT', 'critical', 'passengers trapped, rescue dispatched');
      }
    }
    // phases end at their own time, so the result does not depend on the step size
    let guard = 0;
    while (guard++ < 8) {
      if (this.st === 'fault') {
        if (this.faultUntil > t1) break;
        this.st = 'idle';
        this.loadKg = 0;
        this.phaseEnd = this.faultUntil;
        this.emit('ELEVATOR_RESTORED', 'info', 'elevator back in service');
        continue;
      }
      const out = this.scheduledOut(t1);
      if (out) {
        if (
          this.st === 'idle' ||
          this.st === out ||
          this.st === 'inspection' ||
          this.st === 'out_of_service'
        ) {
          this.st = out;
          this.loadKg = 0;
        }
      } else if (this.st === 'inspection' || this.st === 'out_of_service') this.st = 'idle';
      if (this.st === 'idle') {
        if (!out && occurs(r, elevatorDemandPerMin(t1) / 60, dtS)) this.call(t1);
        break;
      }
      if (this.st === 'inspection' || this.st === 'out_of_service') break;
      if (this.phaseEnd > t1) break;
      const at = this.phaseEnd;
      if (this.st === 'loading') {
        if (this.next === 'deliver') {
          this.next = 'idle';
          this.loadKg = this.passengersKg;
          if (this.dest === Math.round(this.pos)) this.openDoors(at, uniform(r, 5, 10));
          else this.startMove(this.dest, at);
        } else {
          this.loadKg = 0;
          this.st = 'idle';
        }
      } else {
        // arrived
        this.runHours += this.moveDur / 3600;
        this.pos = this.to;
        this.openDoors(at, this.next === 'idle' ? uniform(r, 5, 10) : uniform(r, 6, 12));
        if (this.next === 'idle') this.passengersKg = 0;
      }
    }
    // motion within the current run
    const nowMoving = this.st === 'moving_up' || this.st === 'moving_down';
    if (nowMoving) {
      const tau = (t1 - this.moveStart) / SECOND_MS;
      const f = clamp(tau / this.moveDur, 0, 1);
      const shape = f < 0.5 ? 2 * f * f : 1 - 2 * (1 - f) * (1 - f);
      this.pos = this.from + (this.to - this.from) * shape;
      this.speed = this.speedAt(tau, this.moveDur);
      const dir = this.st === 'moving_up' ? 1 : -1;
      const unbalanced = this.loadKg - 0.45 * this.ratedLoad;
      const mech = (dir * unbalanced * 9.81 * this.speed) / 1000;
      this.power =
        1.0 + (mech > 0 ? mech / 0.85 : mech * 0.8) + 0.02 * this.speed * (this.ratedLoad / 100);
    } else {
      this.speed = 0;
      this.power = this.st === 'loading' ? 0.8 : this.st === 'out_of_service' ? 0.25 : 0.6;
    }
    const ratedKw = (0.55 * this.ratedLoad * 9.81 * this.ratedSpeed) / 1000 / 0.85;
    this.motorTemp = lagToward(
      this.motorTemp,
      26 + 40 * Math.min(1.5, Math.abs(this.power) / ratedKw),
      dtS,
      1800,
    );
  }

  protected sample(): Record<string, FieldValue> {
    const idx = Math.round(this.pos);
    const floor = idx >= this.basements ? idx - this.basements + 1 : idx - this.basements;
    return {
      state: this.st,
      floor,
      speed_m_s: this.speed,
      load_kg: this.loadKg,
      door_open: this.st === 'loading',
      trips: this.trips,
      door_cycles: this.doorCycles,
      motor_temp_c: this.motorTemp,
      power_kw: this.power,
      run_hours: this.runHours,
      alarm: this.alarmUntil > this.now,
    };
  }
}

export const createBuildingHvac = (ctx: ModelContext, startMs: number) =>
  new BuildingHvac(ctx, startMs);
export const createElevator = (ctx: ModelContext, startMs: number) => new Elevator(ctx, startMs);
