/** Electricity: the site meters of every park, and Science City's photovoltaic inverters. */
import type { FieldValue } from '@parkpulse/telemetry';
import type { ModelContext } from './model.js';
import {
  BaseModel,
  Ou,
  SECOND_MS,
  clamp,
  hourlyProfile,
  localDay,
  localHour,
  localWeekday,
  officeOccupancy,
  pick,
  uniform,
} from './util.js';
import { ParkWeather } from './weather.js';

/** Mobile-network / internet traffic over the day (evening peak), 0…1, by local hour. */
export const TRAFFIC_PROFILE = [
  0.42, 0.3, 0.21, 0.16, 0.13, 0.13, 0.18, 0.3, 0.48, 0.6, 0.66, 0.7, 0.74, 0.7, 0.68, 0.68, 0.7,
  0.74, 0.8, 0.88, 0.95, 1, 0.9, 0.64,
] as const;

/** Share of its rated load a park's main meter draws (0…1) at a time, before weather. */
export function parkLoadProfile(park: string, tMs: number): number {
  const h = localHour(tMs);
  const occ = officeOccupancy(tMs);
  switch (park) {
    case 'science-city': {
      // two production shifts 08–24, a lights-out remainder at night, Sundays lighter
      const shift = h >= 8 ? 1 : h >= 7 ? h - 7 : 0;
      const tail = h < 1 ? 1 - h : 0;
      const production = Math.max(shift, tail);
      const level = 0.32 + 0.58 * production - 0.05 * (h >= 12 && h < 12.5 ? 1 : 0);
      return localWeekday(tMs) === 0 ? level * 0.8 : level;
    }
    case 'yuzhu':
      // compute halls run flat out; offices follow occupancy
      return 0.5 + 0.42 * occ;
    case 'knowledge-city':
      // network and edge data centres: traffic-following
      return 0.62 + 0.25 * hourlyProfile(TRAFFIC_PROFILE, h) + 0.08 * occ;
    case 'bio-island':
      // containment ventilation runs 24/7; labs and offices by day
      return 0.55 + 0.38 * occ;
    default:
      return 0.4 + 0.5 * occ;
  }
}

const RATED_KW: Record<string, [number, number]> = {
  'science-city': [800, 6000],
  yuzhu: [300, 3000],
  'knowledge-city': [400, 3000],
  'bio-island': [200, 1500],
};

class EnergyMeter extends BaseModel {
  private readonly ratedKw: number;
  private readonly nominalV: number;
  private readonly weather: ParkWeather;
  private readonly noise = new Ou(this.rng, 0, 0.03, 180);
  private readonly vNoise = new Ou(this.rng, 0, 0.006, 600);
  private readonly fNoise = new Ou(this.rng, 0, 0.02, 30);
  private readonly pfBase = uniform(this.rng, 0.93, 0.97);
  private energyKwh: number;
  private power = 0;
  private profile = 0;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 10);
    const [lo, hi] = RATED_KW[ctx.park] ?? [300, 2000];
    this.ratedKw = uniform(this.rng, lo, hi);
    this.nominalV = this.ratedKw > 1500 ? 10_000 : 400;
    this.weather = new ParkWeather(ctx.seed, ctx.park);
    this.energyKwh = this.ratedKw * 0.55 * 8760 * uniform(this.rng, 1, 8);
    this.update(startMs, 0);
  }

  private update(tMs: number, dtS: number): void {
    const outdoor = this.weather.at(tMs).tempC;
    const cooling = 1 + 0.012 * Math.max(0, outdoor - 22);
    this.profile = parkLoadProfile(this.ctx.park, tMs);
    this.power = Math.max(
      0,
      this.ratedKw * this.profile * cooling * (1 + this.noise.step(dtS || 1)),
    );
  }

  protected tick(t0: number, dtS: number): void {
    this.update(t0 + dtS * SECOND_MS, dtS);
    this.energyKwh += (this.power * dtS) / 3600;
    this.vNoise.step(dtS);
    this.fNoise.step(dtS);
  }

  protected sample(): Record<string, FieldValue> {
    const v = this.nominalV * (1.01 - 0.015 * this.profile + this.vNoise.value);
    const pf = clamp(this.pfBase - 0.05 * (1 - this.profile) + 0.3 * this.vNoise.value, 0.8, 0.995);
    return {
      active_power_kw: this.power,
      energy_kwh: this.energyKwh,
      voltage_v: v,
      current_a: (this.power * 1000) / (Math.sqrt(3) * v * pf),
      power_factor: pf,
      frequency_hz: 50 + this.fNoise.value,
    };
  }

  protected override decimals(name: string): number {
    return name === 'power_factor'
      ? 3
      : name === 'frequency_hz'
        ? 3
        : name === 'energy_kwh'
          ? 3
          : 2;
  }
}

// ---------------------------------------------------------------------------------------------

class PvInverter extends BaseModel {
  private readonly ratedKw: number;
  private readonly dcAcRatio = uniform(this.rng, 1.1, 1.3);
  private readonly vmppNominal: number;
  private readonly tiltGain = uniform(this.rng, 1.0, 1.08);
  private readonly soiling = uniform(this.rng, 0.95, 0.99);
  private readonly weather: ParkWeather;
  private readonly flicker = new Ou(this.rng, 0, 0.01, 30);
  private moduleTemp: number;
  private irradiance = 0;
  private ac = 0;
  private dcV = 0;
  private efficiency = 0;
  private today = 0;
  private total: number;
  private day: number;

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 10);
    const central = this.rng() < 0.3;
    this.ratedKw = central
      ? pick(this.rng, [1100, 2500, 3125])
      : pick(this.rng, [50, 100, 110, 196, 225]);
    this.vmppNominal = central ? uniform(this.rng, 1000, 1150) : uniform(this.rng, 600, 750);
    this.weather = new ParkWeather(ctx.seed, ctx.park);
    this.total = this.ratedKw * 1100 * uniform(this.rng, 0.5, 6);
    this.day = localDay(startMs);
    this.moduleTemp = this.weather.at(startMs).tempC;
    this.update(startMs, 0);
  }

  private update(tMs: number, dtS: number): void {
    const w = this.weather.at(tMs);
    const poa = Math.max(0, w.ghiWm2 * this.tiltGain * (1 + this.flicker.step(dtS || 1)));
    this.irradiance = poa;
    const noct = w.tempC + poa * 0.03;
    this.moduleTemp = dtS > 0 ? noct + (this.moduleTemp - noct) * Math.exp(-dtS / 300) : noct;
    if (poa < 8) {
      this.ac = 0;
      this.dcV = 0;
      this.efficiency = 0;
      return;
    }
    const dcKw =
      this.ratedKw *
      this.dcAcRatio *
      (poa / 1000) *
      (1 - 0.0037 * (this.moduleTemp - 25)) *
      this.soiling *
      0.97;
    const x = dcKw / this.ratedKw;
    const eta = clamp(0.986 - 0.035 * Math.exp(-x / 0.05) - 0.012 * x * x, 0.85, 0.99);
    this.ac = Math.min(this.ratedKw, dcKw * eta);
    this.efficiency = eta * 100;
    this.dcV =
      this.vmppNominal *
      (1 - 0.0035 * (this.moduleTemp - 25)) *
      (1 + 0.035 * Math.log(Math.max(poa, 20) / 1000));
  }

  protected tick(t0: number, dtS: number): void {
    const t1 = t0 + dtS * SECOND_MS;
    const day = localDay(t1);
    if (day !== this.day) {
      this.day = day;
      this.today = 0;
    }
    this.update(t1, dtS);
    const e = (this.ac * dtS) / 3600;
    this.today += e;
    this.total += e;
  }

  protected sample(): Record<string, FieldValue> {
    return {
      ac_power_kw: this.ac,
      dc_voltage_v: this.dcV,
      energy_today_kwh: this.today,
      energy_total_kwh: this.total,
      irradiance_w_m2: this.irradiance,
      module_temp_c: this.moduleTemp,
      efficiency_pct: this.efficiency,
    };
  }

  protected override decimals(name: string): number {
    return name.startsWith('energy') ? 3 : 2;
  }
}

export const createEnergyMeter = (ctx: ModelContext, startMs: number) =>
  new EnergyMeter(ctx, startMs);
export const createPvInverter = (ctx: ModelContext, startMs: number) =>
  new PvInverter(ctx, startMs);
