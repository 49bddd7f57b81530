/** Assets of every park: street lights, EV chargers, environment sensors, water meters. */
import type { FieldValue } from '@parkpulse/telemetry';
import { TRAFFIC_PROFILE } from './energy.js';
import type { ModelContext } from './model.js';
import {
  BaseModel,
  HOUR_MS,
  MINUTE_MS,
  Ou,
  SECOND_MS,
  bump,
  clamp,
  dayOfYear,
  hourlyProfile,
  lagToward,
  localHour,
  occurs,
  officeOccupancy,
  pick,
  smoothNoise,
  uniform,
  uniformInt,
} from './util.js';
import { ParkWeather } from './weather.js';

// ---------------------------------------------------------------------------------------------
// Street light

/** Photocell thresholds (lux) and the night dimming profile of the street lights. */
export const STREET_LIGHT = {
  onBelowLux: 30,
  offAboveLux: 60,
  /** Full output from dusk to 23:00, dimmed until 05:00, then 80 % until dawn. */
  dimFromH: 23,
  dimUntilH: 5,
  dawnPct: 80,
} as const;

/** Illuminance of the sky (lux) from the sun's elevation and the cloud, with urban sky glow. */
export function skyLux(elevationDeg: number, ghiWm2: number, cloud: number): number {
  const twilight = elevationDeg > -6 ? 400 * 10 ** (Math.min(elevationDeg, 0) * 0.35) : 0;
  return Math.max(ghiWm2 * 110, twilight * (1 - 0.6 * cloud)) + 3;
}

class StreetLight extends BaseModel {
  private readonly ratedW = pick(this.rng, [60, 90, 120, 150, 200, 250]);
  private readonly nightDim = uniform(this.rng, 40, 60);
  private readonly cellGain = uniform(this.rng, 0.85, 1.1);
  private readonly weather: ParkWeather;
  private on: boolean;
  private lux = 0;
  private dim = 0;
  private power = 0.5;
  private energyKwh: number;
  private burnHours: number;
  private faultUntil = 0;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 60);
    this.weather = new ParkWeather(ctx.seed, ctx.park);
    this.burnHours = uniform(this.rng, 1_000, 40_000);
    this.energyKwh = (this.burnHours * this.ratedW * 0.8) / 1000;
    const w = this.weather.at(startMs);
    this.lux = skyLux(w.sunElevationDeg, w.ghiWm2, w.cloud) * this.cellGain;
    this.on = this.lux < STREET_LIGHT.onBelowLux;
    this.update(startMs);
  }

  private update(t: number): void {
    const faulted = this.faultUntil > t;
    if (!this.on || faulted) {
      this.dim = 0;
      this.power = 0.5;
      return;
    }
    const h = localHour(t);
    this.dim =
      h >= STREET_LIGHT.dimFromH || h < STREET_LIGHT.dimUntilH
        ? this.nightDim
        : h < 12
          ? STREET_LIGHT.dawnPct
          : 100;
    this.power = this.ratedW * (0.05 + (0.95 * this.dim) / 100) + 0.5;
  }

  protected tick(t0: number, dtS: number): void {
    const t1 = t0 + dtS * SECOND_MS;
    const w = this.weather.at(t1);
    this.lux = skyLux(w.sunElevationDeg, w.ghiWm2, w.cloud) * this.cellGain;
    if (this.on && this.lux > STREET_LIGHT.offAboveLux) this.on = false;
    else if (!this.on && this.lux < STREET_LIGHT.onBelowLux) this.on = true;
    if (this.faultUntil <= t1 && occurs(this.rng, 1 / (60 * 24 * 3600), dtS)) {
      this.faultUntil = t1 + uniform(this.rng, 6, 48) * HOUR_MS;
      this.emit('LAMP_FAULT', 'warning', 'LED driver failure, lamp dark');
    }
    this.update(t1);
    if (this.on && this.faultUntil <= t1) this.burnHours += dtS / 3600;
    this.energyKwh += (this.power * dtS) / 3600 / 1000;
  }

  protected sample(): Record<string, FieldValue> {
    const faulted = this.faultUntil > this.now;
    return {
      on: this.on && !faulted,
      dimming_pct: this.dim,
      power_w: this.power,
      energy_kwh: this.energyKwh,
      lux: this.lux + (this.on && !faulted ? 4 : 0),
      burn_hours: this.burnHours,
      fault: faulted,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// EV charger

export type EvChargerState = 'available' | 'charging' | 'finishing' | 'faulted' | 'unavailable';

/** Allowed connector status changes (a subset of OCPP's). */
export const EV_CHARGER_TRANSITIONS: Readonly<Record<EvChargerState, readonly EvChargerState[]>> = {
  available: ['charging', 'faulted', 'unavailable'],
  charging: ['finishing', 'faulted'],
  finishing: ['available', 'faulted'],
  faulted: ['available'],
  unavailable: ['available'],
};

/** Vehicle arrivals per hour at one workplace connector, by local time. */
export function evArrivalsPerHour(tMs: number, dc: boolean): number {
  const h = localHour(tMs);
  const work = 0.03 + 0.9 * bump(h, 8.8, 1.5) + 0.35 * bump(h, 13, 1.5) + 0.5 * bump(h, 18.5, 2);
  return dc ? 2 * work * (0.5 + officeOccupancy(tMs)) + 0.25 * bump(h, 2, 3) : work;
}

class EvCharger extends BaseModel {
  private readonly dc = this.rng() < 0.5;
  private readonly ratedKw = this.dc ? pick(this.rng, [60, 120, 160]) : pick(this.rng, [7, 22]);
  private readonly weather: ParkWeather;
  private st: EvChargerState = 'available';
  private until = 0;
  private soc = 0;
  private target = 0;
  private batteryKwh = 60;
  private vehicleKw = 0;
  private highVoltage = false;
  private power = 0;
  private session = 0;
  private total: number;
  private sessions: number;
  private connectorTemp: number;
  private readonly vNoise = new Ou(this.rng, 0, 2, 300);

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 10);
    this.weather = new ParkWeather(ctx.seed, ctx.park);
    this.sessions = uniformInt(this.rng, 500, 20_000);
    this.total = this.sessions * uniform(this.rng, 15, 35);
    this.connectorTemp = this.weather.at(startMs).tempC;
  }

  override get state(): EvChargerState {
    return this.st;
  }

  private go(to: EvChargerState): void {
    if (EV_CHARGER_TRANSITIONS[this.st].includes(to)) this.st = to;
  }

  private startSession(t: number): void {
    const r = this.rng;
    this.go('charging');
    this.sessions++;
    this.session = 0;
    this.batteryKwh = uniform(r, 45, 100);
    this.soc = uniform(r, 10, 50);
    this.target = this.dc ? uniform(r, 75, 90) : uniform(r, 80, 100);
    this.vehicleKw = this.dc ? uniform(r, 50, 180) : pick(r, [6.6, 7, 11]);
    this.highVoltage = r() < 0.3;
    this.until = t;
    this.emit(
      'SESSION_STARTED',
      'info',
      `charging session started at ${this.soc.toFixed(0)} % SoC`,
    );
  }

  private chargePower(): number {
    if (!this.dc) return Math.min(this.ratedKw, this.vehicleKw);
    const s = this.soc;
    const taper =
      s < 50
        ? 1
        : s < 80
          ? 1 - ((s - 50) / 30) * 0.5
          : Math.max(0.08, 0.5 - ((s - 80) / 20) * 0.42);
    return Math.min(this.ratedKw, this.vehicleKw * taper);
  }

  protected tick(t0: number, dtS: number): void {
    const r = this.rng;
    const t1 = t0 + dtS * SECOND_MS;
    if (
      (this.st === 'available' || this.st === 'charging') &&
      occurs(r, 1 / (10 * 24 * 3600), dtS)
    ) {
      const wasCharging = this.st === 'charging';
      this.go('faulted');
      this.power = 0;
      this.until = t1 + uniform(r, 30, 240) * MINUTE_MS;
      this.emit(
        'CHARGER_FAULT',
        'critical',
        wasCharging ? 'ground fault detected, session aborted' : 'power module fault',
      );
    }
    switch (this.st) {
      case 'available':
        this.power = 0;
        this.session = 0;
        if (occurs(r, 1 / (20 * 24 * 3600), dtS)) {
          this.go('unavailable');
          this.until = t1 + uniform(r, 1, 4) * HOUR_MS;
        } else if (occurs(r, evArrivalsPerHour(t1, this.dc) / 3600, dtS)) this.startSession(t1);
        break;
      case 'charging': {
        this.power = this.chargePower();
        const e = (this.power * dtS) / 3600;
        this.session += e;
        this.total += e;
        this.soc = Math.min(100, this.soc + ((e * 0.93) / this.batteryKwh) * 100);
        if (this.soc >= this.target) {
          this.go('finishing');
          this.power = 0;
          this.until = t1 + (this.dc ? uniform(r, 1, 20) : uniform(r, 20, 240)) * MINUTE_MS;
          this.emit('SESSION_STOPPED', 'info', `session ended: ${this.session.toFixed(1)} kWh`);
        }
        break;
      }
      case 'finishing':
        this.power = 0;
        if (this.until <= t1) {
          this.go('available');
          this.session = 0;
        }
        break;
      case 'faulted':
      case 'unavailable':
        this.power = 0;
        if (this.until <= t1) {
          if (this.st === 'faulted')
            this.emit('CHARGER_RESTORED', 'info', 'charger back in service');
          this.go('available');
          this.session = 0;
        }
        break;
      default:
        break;
    }
    const amb = this.weather.at(t1).tempC;
    const current = this.current();
    const k = this.dc ? 0.0004 : 0.008;
    this.connectorTemp = lagToward(this.connectorTemp, amb + k * current * current, dtS, 600);
    this.vNoise.step(dtS);
  }

  private voltage(): number {
    if (!this.dc) return (this.ratedKw > 11 ? 400 : 230) + this.vNoise.value;
    if (this.st !== 'charging') return 0;
    const [lo, hi] = this.highVoltage ? [690, 820] : [340, 420];
    return lo + ((hi - lo) * this.soc) / 100;
  }

  private current(): number {
    const v = this.voltage();
    if (v <= 0 || this.power <= 0) return 0;
    return this.dc
      ? (this.power * 1000) / v
      : this.ratedKw > 11
        ? (this.power * 1000) / (Math.sqrt(3) * v)
        : (this.power * 1000) / v;
  }

  protected sample(): Record<string, FieldValue> {
    return {
      state: this.st,
      power_kw: this.power,
      voltage_v: this.voltage(),
      current_a: this.current(),
      vehicle_soc_pct:
        this.dc && (this.st === 'charging' || this.st === 'finishing') ? this.soc : 0,
      energy_session_kwh: this.session,
      energy_total_kwh: this.total,
      connector_temp_c: this.connectorTemp,
      sessions: this.sessions,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Environment sensor

class EnvironmentSensor extends BaseModel {
  private readonly weather: ParkWeather;
  private readonly tOffset = uniform(this.rng, -0.5, 0.8);
  private readonly hOffset = uniform(this.rng, -3, 3);
  private readonly pOffset = uniform(this.rng, -1.5, 0);
  private readonly exposure = uniform(this.rng, 0.6, 1.2);
  private readonly pmRatio = uniform(this.rng, 1.4, 2);
  private readonly pmSite = uniform(this.rng, 0.85, 1.2);
  private readonly noiseBase = uniform(this.rng, 44, 52);
  private readonly tNoise = new Ou(this.rng, 0, 0.1, 300);
  private readonly pmNoise = new Ou(this.rng, 0, 0.12, 600);
  private readonly co2Noise = new Ou(this.rng, 0, 6, 300);
  private readonly dbNoise = new Ou(this.rng, 0, 2, 60);
  private readonly gust = new Ou(this.rng, 0, 0.5, 20);
  private readonly dirNoise = new Ou(this.rng, 0, 12, 60);
  private readonly key = Math.floor(this.rng() * 4294967296);

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 60);
    this.weather = new ParkWeather(ctx.seed, ctx.park);
  }

  protected tick(_t0: number, dtS: number): void {
    this.tNoise.step(dtS);
    this.pmNoise.step(dtS);
    this.co2Noise.step(dtS);
    this.dbNoise.step(dtS);
    this.gust.step(dtS);
    this.dirNoise.step(dtS);
  }

  protected sample(): Record<string, FieldValue> {
    const t = this.now;
    const w = this.weather.at(t);
    const h = localHour(t);
    const winter = (1 + Math.cos((2 * Math.PI * (dayOfYear(t) - 20)) / 365)) / 2;
    const traffic = hourlyProfile(TRAFFIC_PROFILE, h);
    const rush = 0.35 * bump(h, 8, 1.5) + 0.3 * bump(h, 18.5, 2);
    const washout = 1 - 0.5 * clamp(w.rainMmH / 5, 0, 1);
    const ventilation = 1 / (1 + 0.12 * w.windMs);
    const pm25 = Math.max(
      2,
      (18 + 30 * winter) *
        this.pmSite *
        (1 + 0.4 * smoothNoise(this.key, t, 36 * HOUR_MS)) *
        (1 + rush) *
        washout *
        ventilation *
        1.3 *
        (1 + this.pmNoise.value),
    );
    const wind = Math.max(0, w.windMs * this.exposure + this.gust.value);
    return {
      temperature_c: w.tempC + this.tOffset + this.tNoise.value,
      humidity_pct: clamp(w.humidityPct + this.hOffset, 5, 100),
      pressure_hpa: w.pressureHpa + this.pOffset + 0.05 * this.tNoise.value,
      pm2_5_ug_m3: pm25,
      pm10_ug_m3: pm25 * this.pmRatio * (1 + 0.5 * this.pmNoise.value),
      co2_ppm: 420 + 30 * bump(h, 5, 5) + 20 * rush + this.co2Noise.value,
      noise_db: this.noiseBase + 14 * traffic + Math.min(8, 0.6 * w.rainMmH) + this.dbNoise.value,
      wind_speed_m_s: wind,
      wind_direction_deg: (((w.windDirDeg + this.dirNoise.value) % 360) + 360) % 360,
      rain_rate_mm_h: w.rainMmH,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Water meter

/** Share of its nominal flow a park's water meter sees at a time (0…1). */
export function waterDemand(park: string, tMs: number): number {
  const h = localHour(tMs);
  const occ = officeOccupancy(tMs);
  switch (park) {
    case 'science-city':
      return 0.15 + 0.75 * (h >= 8 ? 1 : h >= 7 ? h - 7 : 0) * (0.9 + 0.1 * bump(h, 12.5, 1));
    case 'knowledge-city':
      return 0.45 + 0.3 * hourlyProfile(TRAFFIC_PROFILE, h) + 0.15 * occ;
    case 'bio-island':
      return 0.2 + 0.75 * occ;
    default:
      return 0.08 + 0.85 * occ + 0.1 * bump(h, 12.3, 1);
  }
}

class WaterMeter extends BaseModel {
  private readonly nominal = uniform(this.rng, 2, 60);
  private readonly staticBar = uniform(this.rng, 3.5, 4.8);
  private readonly drainPerDay = uniform(this.rng, 0.005, 0.02);
  private readonly noise = new Ou(this.rng, 0, 0.1, 120);
  private readonly pNoise = new Ou(this.rng, 0, 0.04, 60);
  private readonly tNoise = new Ou(this.rng, 0, 0.15, 1800);
  private flow = 0;
  private volume: number;
  private battery = uniform(this.rng, 40, 100);
  private leakFlow = 0;
  private leakSince = 0;
  private leakUntil = 0;
  private leakAlarm = false;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 60);
    this.volume = this.nominal * 0.4 * 8760 * uniform(this.rng, 0.5, 6);
    this.flow = this.nominal * waterDemand(ctx.park, startMs);
  }

  protected tick(t0: number, dtS: number): void {
    const r = this.rng;
    const t1 = t0 + dtS * SECOND_MS;
    if (this.leakFlow === 0 && occurs(r, 1 / (45 * 24 * 3600), dtS)) {
      this.leakFlow = this.nominal * uniform(r, 0.03, 0.12);
      this.leakSince = t1;
      this.leakUntil = t1 + uniform(r, 24, 72) * HOUR_MS;
    }
    if (this.leakFlow > 0 && !this.leakAlarm && t1 - this.leakSince > 2 * HOUR_MS) {
      this.leakAlarm = true;
      this.emit('LEAK_SUSPECTED', 'warning', 'continuous flow for 2 h: leak suspected');
    }
    if (this.leakFlow > 0 && this.leakUntil <= t1) {
      this.leakFlow = 0;
      this.leakAlarm = false;
      this.emit('LEAK_CLEARED', 'info', 'leak repaired, night flow back to normal');
    }
    this.flow = Math.max(
      0,
      this.nominal * waterDemand(this.ctx.park, t1) * (1 + this.noise.step(dtS)) + this.leakFlow,
    );
    this.volume += (this.flow * dtS) / 3600;
    this.battery = Math.max(0, this.battery - (this.drainPerDay * dtS) / 86400);
    this.pNoise.step(dtS);
    this.tNoise.step(dtS);
  }

  protected sample(): Record<string, FieldValue> {
    const t = this.now;
    const share = this.flow / this.nominal;
    const season = Math.cos((2 * Math.PI * (dayOfYear(t) - 35)) / 365);
    return {
      flow_m3_h: this.flow,
      volume_total_m3: this.volume,
      pressure_bar: this.staticBar - 0.8 * share * share + this.pNoise.value,
      temperature_c:
        23 -
        7 * season +
        0.5 * Math.cos((2 * Math.PI * (localHour(t) - 16)) / 24) +
        this.tNoise.value,
      battery_pct: this.battery,
      leak_alarm: this.leakAlarm,
    };
  }
}

export const createStreetLight = (ctx: ModelContext, startMs: number) =>
  new StreetLight(ctx, startMs);
export const createEvCharger = (ctx: ModelContext, startMs: number) => new EvCharger(ctx, startMs);
export const createEnvironmentSensor = (ctx: ModelContext, startMs: number) =>
  new EnvironmentSensor(ctx, startMs);
export const createWaterMeter = (ctx: ModelContext, startMs: number) =>
  new WaterMeter(ctx, startMs);
