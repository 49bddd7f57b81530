import {
  MACHINE_STATES,
  type AssetTypeSpec,
  type FieldValue,
  type MachineState,
  type MetricSpec,
} from '@parkpulse/telemetry';
import { createRng, hashString } from './rng.js';

/** How a machine moves between states each tick (probabilities), a simple shop-floor model. */
const TRANSITIONS: Record<MachineState, [MachineState, number][]> = {
  running: [
    ['idle', 0.01],
    ['fault', 0.003],
    ['setup', 0.004],
  ],
  idle: [
    ['running', 0.08],
    ['maintenance', 0.004],
  ],
  setup: [['running', 0.1]],
  fault: [
    ['maintenance', 0.05],
    ['idle', 0.05],
  ],
  maintenance: [['idle', 0.05]],
};

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Produces plausible readings for one device from the catalogue: gauges wander inside the
 * middle of their physical range, counters only grow, machine state follows a state machine and
 * drives load, speed and power (correlated), energy integrates power. Seeded per device.
 */
export class SignalModel {
  private readonly rng: () => number;
  private readonly level = new Map<string, number>();
  private state: MachineState = 'running';
  private energyKwh: number;

  constructor(
    readonly asset: AssetTypeSpec,
    deviceId: string,
    seed: number,
  ) {
    this.rng = createRng(seed ^ hashString(deviceId));
    this.energyKwh = round(1000 + this.rng() * 50_000, 3);
    for (const [name, spec] of Object.entries(asset.metrics)) {
      if (spec.kind === 'gauge') this.level.set(name, 0.3 + this.rng() * 0.3);
      if (spec.kind === 'counter') this.level.set(name, Math.floor(this.rng() * 100_000));
    }
  }

  /** The next sample's metrics, `dtS` seconds after the previous one. */
  next(dtS: number): Record<string, FieldValue> {
    this.step();
    const running =
      this.state === 'running' ? 1 : this.state === 'idle' || this.state === 'setup' ? 0.15 : 0.02;
    const out: Record<string, FieldValue> = {};
    for (const [name, spec] of Object.entries(this.asset.metrics)) {
      out[name] = this.value(name, spec, running, dtS);
    }
    return out;
  }

  private step(): void {
    if (!('state' in this.asset.metrics)) return;
    let r = this.rng();
    for (const [to, p] of TRANSITIONS[this.state]) {
      if (r < p) {
        this.state = to;
        return;
      }
      r -= p;
    }
  }

  private value(name: string, spec: MetricSpec, activity: number, dtS: number): FieldValue {
    switch (spec.kind) {
      case 'enum':
        if (
          name === 'state' &&
          spec.values?.every((v) => (MACHINE_STATES as readonly string[]).includes(v))
        )
          return this.state;
        return spec.values?.[0] ?? '';
      case 'boolean':
        return this.rng() < 0.02;
      case 'counter': {
        if (name === 'energy_kwh' || name.startsWith('energy_total')) {
          const powerKw = Number(
            this.gaugeOf('active_power_kw') ?? this.gaugeOf('ac_power_kw') ?? 50,
          );
          this.energyKwh = round(this.energyKwh + (powerKw * dtS) / 3600, 3);
          return this.energyKwh;
        }
        const inc = this.rng() < activity ? 1 : 0;
        const v = (this.level.get(name) ?? 0) + inc;
        this.level.set(name, v);
        return v;
      }
      case 'gauge': {
        const min = spec.min ?? 0;
        const max = spec.max ?? min + 100;
        // A bounded random walk in [0.2, 0.8] of the range, pulled towards zero when the machine stops.
        let level = (this.level.get(name) ?? 0.5) + (this.rng() - 0.5) * 0.04;
        level = Math.min(0.8, Math.max(0.2, level));
        this.level.set(name, level);
        const driven = /rpm|load|power|feed|speed|current/.test(name) ? level * activity : level;
        return round(min + (max - min) * Math.max(0, Math.min(1, driven)));
      }
    }
  }

  private gaugeOf(name: string): number | undefined {
    const spec = this.asset.metrics[name];
    const level = this.level.get(name);
    if (!spec || level === undefined) return undefined;
    return (spec.min ?? 0) + ((spec.max ?? 100) - (spec.min ?? 0)) * level;
  }
}
