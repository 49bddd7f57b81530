import { hashString } from '../rng.js';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  clamp,
  dayOfYear,
  localDay,
  localHour,
  smoothNoise,
  hashUnit,
} from './util.js';

/** Where the parks are (Huangpu, Guangzhou): for the sun. */
export const PARK_SITE = { latitudeDeg: 23.16, longitudeDeg: 113.45 } as const;

export interface WeatherSample {
  /** Outdoor air temperature, °C. */
  readonly tempC: number;
  readonly humidityPct: number;
  readonly pressureHpa: number;
  /** Cloudiness 0 (clear) … 1 (overcast). */
  readonly cloud: number;
  /** Sun elevation above the horizon, degrees (negative at night). */
  readonly sunElevationDeg: number;
  /** Clear-sky global horizontal irradiance, W/m². */
  readonly clearSkyWm2: number;
  /** Global horizontal irradiance with clouds, W/m². */
  readonly ghiWm2: number;
  readonly windMs: number;
  readonly windDirDeg: number;
  readonly rainMmH: number;
}

const rad = Math.PI / 180;

/** Sun elevation (degrees) at Guangzhou for an epoch time (declination, equation of time). */
export function sunElevationDeg(tMs: number): number {
  const doy = dayOfYear(tMs);
  const decl = 23.44 * Math.sin((2 * Math.PI * (284 + doy)) / 365) * rad;
  const b = (2 * Math.PI * (doy - 81)) / 364;
  const eotMin = 9.87 * Math.sin(2 * b) - 7.53 * Math.cos(b) - 1.5 * Math.sin(b);
  const solarHour = localHour(tMs) + (4 * (PARK_SITE.longitudeDeg - 120) + eotMin) / 60;
  const hourAngle = 15 * (solarHour - 12) * rad;
  const lat = PARK_SITE.latitudeDeg * rad;
  const sinEl =
    Math.sin(lat) * Math.sin(decl) + Math.cos(lat) * Math.cos(decl) * Math.cos(hourAngle);
  return Math.asin(clamp(sinEl, -1, 1)) / rad;
}

/** Haurwitz clear-sky model: GHI from the sun's elevation. */
export function clearSkyGhi(elevationDeg: number): number {
  const s = Math.sin(elevationDeg * rad);
  return s <= 0.01 ? 0 : 1098 * s * Math.exp(-0.057 / s);
}

/**
 * The outdoor weather of a park: a deterministic function of (seed, park, time), so that every
 * device of a park (PV inverters, environment sensors, chillers, street lights) sees the same
 * sky. Humid subtropical climate of Guangzhou: mild winters, hot wet summers, afternoon showers.
 */
export class ParkWeather {
  private readonly key: number;

  constructor(seed: number, park: string) {
    this.key = (seed ^ hashString(`weather:${park}`)) >>> 0;
  }

  at(tMs: number): WeatherSample {
    const k = this.key;
    const doy = dayOfYear(tMs);
    const h = localHour(tMs);
    const season = Math.cos((2 * Math.PI * (doy - 20)) / 365); // +1 mid-January, -1 mid-July
    const summer = (1 - season) / 2;

    // Cloud: a per-day cover (wetter in spring and summer) plus drifting cloud fields.
    const dayCloud = clamp(0.25 + 0.35 * summer + 0.45 * smoothNoise(k ^ 0x11, tMs, DAY_MS), 0, 1);
    const cloud = clamp(
      dayCloud +
        0.25 * smoothNoise(k ^ 0x12, tMs, 40 * MINUTE_MS) +
        0.12 * smoothNoise(k ^ 0x13, tMs, 7 * MINUTE_MS),
      0,
      1,
    );
    const elevation = sunElevationDeg(tMs);
    const clear = clearSkyGhi(elevation);
    const ghi = clear * (1 - 0.78 * cloud ** 1.6);

    // Rain: convective afternoon showers in the wet season, fronts otherwise.
    const wetness = smoothNoise(k ^ 0x21, tMs, 5 * HOUR_MS) + 0.4 * (cloud - 0.5);
    const afternoon = summer * Math.max(0, Math.sin(((h - 11) / 10) * Math.PI));
    const rainDrive = wetness + 0.35 * afternoon - 0.55;
    const rain =
      rainDrive > 0
        ? 40 * rainDrive ** 1.5 * (0.6 + 0.4 * smoothNoise(k ^ 0x22, tMs, 20 * MINUTE_MS))
        : 0;

    // Temperature: seasonal mean, a daily anomaly, a diurnal wave damped by cloud, cooling by rain.
    const mean = 22.5 - 7.5 * season + 2.5 * smoothNoise(k ^ 0x31, tMs, 3 * DAY_MS);
    const amplitude = 4 * (1 - 0.55 * cloud);
    const diurnal = Math.cos((2 * Math.PI * (h - 14.5)) / 24);
    const tempC =
      mean + amplitude * diurnal + 0.4 * smoothNoise(k ^ 0x32, tMs, HOUR_MS) - 0.12 * rain ** 0.8;

    // Humidity from a dew point that changes slowly (Magnus formula).
    const spread = clamp(
      6 + 3 * season - 4 * cloud - 0.3 * rain + 1.5 * smoothNoise(k ^ 0x41, tMs, DAY_MS),
      0.3,
      15,
    );
    const dewC = mean - 0.6 * amplitude - spread - 0.5;
    const es = (t: number) => Math.exp((17.625 * t) / (243.04 + t));
    const humidityPct = clamp((100 * es(dewC)) / es(tempC), 15, 100);

    const pressureHpa =
      1012 +
      7 * season +
      0.9 * Math.cos((4 * Math.PI * (h - 10)) / 24) +
      3 * smoothNoise(k ^ 0x51, tMs, 3 * DAY_MS);

    const windMean =
      2.2 +
      0.8 * Math.max(0, Math.sin(((h - 9) / 12) * Math.PI)) +
      1.2 * smoothNoise(k ^ 0x61, tMs, 6 * HOUR_MS);
    const windMs = Math.max(
      0,
      windMean + 0.8 * smoothNoise(k ^ 0x62, tMs, 2 * MINUTE_MS) + 0.05 * rain,
    );
    const prevailing = 20 + 140 * summer; // NE monsoon in winter, S–SE in summer
    const windDirDeg =
      (((prevailing + 50 * smoothNoise(k ^ 0x63, tMs, 3 * HOUR_MS)) % 360) + 360) % 360;

    return {
      tempC,
      humidityPct,
      pressureHpa,
      cloud,
      sunElevationDeg: elevation,
      clearSkyWm2: clear,
      ghiWm2: ghi,
      windMs,
      windDirDeg,
      rainMmH: rain,
    };
  }

  /** A number in [0, 1) fixed for the park and the local day (e.g. "how busy is today"). */
  dayUnit(tMs: number, salt: number): number {
    return hashUnit(this.key, localDay(tMs), salt);
  }
}
