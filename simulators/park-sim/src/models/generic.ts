/** The fallback for asset types without a dedicated model: plausible, catalogue-conform signals. */
import { MACHINE_STATES, type FieldValue, type MetricSpec } from '@parkpulse/telemetry';
import { MachineCore, type MachineProfile } from './manufacturing.js';
import type { ModelContext } from './model.js';
import { BaseModel, Ou, Toggle, clamp, deriveRng, uniform } from './util.js';

const GENERIC_PROFILE: MachineProfile = {
  label: 'Machine',
  meanRunHoursBetweenFaults: 8,
  faults: [{ code: 'MACHINE_FAULT', message: 'machine fault' }],
  continuous: false,
  setupAtShiftStart: 0.2,
  changeoversPerHour: 0.05,
  stopsPerHour: 0.4,
  lightsOut: 0.2,
  scheduledMaintenancePerNight: 0.05,
  faultMinutes: [5, 30],
  repairMinutes: [20, 90],
};

const isMachineStates = (spec: MetricSpec) =>
  spec.values !== undefined &&
  spec.values.length > 0 &&
  spec.values.every((v) => (MACHINE_STATES as readonly string[]).includes(v));

const DRIVEN = /rpm|load|power|feed|speed|current|flow/;

class GenericModel extends BaseModel {
  private readonly core: MachineCore | undefined;
  private readonly gauges = new Map<string, Ou>();
  private readonly counters = new Map<string, { value: number; perS: number }>();
  private readonly toggles = new Map<string, Toggle>();
  private readonly enums = new Map<string, string>();

  constructor(ctx: ModelContext, startMs: number) {
    super(ctx, startMs, 5);
    const stateSpec = ctx.asset.metrics['state'];
    this.core =
      stateSpec?.kind === 'enum' && isMachineStates(stateSpec)
        ? new MachineCore(deriveRng(this.rng), GENERIC_PROFILE, startMs, (c, s, m) =>
            this.emit(c, s, m),
          )
        : undefined;
    for (const [name, spec] of Object.entries(ctx.asset.metrics)) {
      switch (spec.kind) {
        case 'gauge':
          this.gauges.set(name, new Ou(this.rng, uniform(this.rng, 0.35, 0.6), 0.05, 300));
          break;
        case 'counter':
          this.counters.set(name, {
            value: Math.floor(uniform(this.rng, 1_000, 100_000)),
            perS: uniform(this.rng, 0.001, 0.05),
          });
          break;
        case 'boolean':
          this.toggles.set(name, new Toggle());
          break;
        default:
          this.enums.set(name, spec.values?.[0] ?? '');
      }
    }
  }

  override get state(): string | undefined {
    return this.core?.state ?? this.enums.get('state');
  }

  private activity(): number {
    if (!this.core) return 1;
    const s = this.core.state;
    return s === 'running' ? 1 : s === 'idle' || s === 'setup' ? 0.15 : 0.03;
  }

  protected tick(t0: number, dtS: number): void {
    this.core?.tick(t0, dtS);
    const a = this.activity();
    for (const ou of this.gauges.values()) ou.step(dtS);
    for (const c of this.counters.values()) c.value += c.perS * a * dtS;
    for (const t of this.toggles.values()) t.step(this.rng, dtS, 1 / (12 * 3600), 1 / 300);
    for (const [name, value] of this.enums) {
      const values = this.asset.metrics[name]?.values ?? [];
      if (values.length > 1 && this.rng() < 1 - Math.exp(-dtS / (6 * 3600)))
        this.enums.set(
          name,
          this.rng() < 0.8
            ? (values[0] ?? value)
            : (values[1 + Math.floor(this.rng() * (values.length - 1))] ?? value),
        );
    }
  }

  protected sample(): Record<string, FieldValue> {
    const out: Record<string, FieldValue> = {};
    const a = this.activity();
    for (const [name, spec] of Object.entries(this.asset.metrics)) {
      switch (spec.kind) {
        case 'gauge': {
          const lo = spec.min ?? 0;
          const hi = spec.max ?? lo + 100;
          const level = clamp(this.gauges.get(name)?.value ?? 0.5, 0.05, 0.95);
          out[name] = lo + (hi - lo) * (DRIVEN.test(name) ? level * a : level);
          break;
        }
        case 'counter':
          out[name] = this.counters.get(name)?.value ?? 0;
          break;
        case 'boolean':
          out[name] = this.toggles.get(name)?.on ?? false;
          break;
        default:
          out[name] =
            name === 'state' && this.core ? this.core.state : (this.enums.get(name) ?? '');
      }
    }
    return out;
  }
}

export const createGenericModel = (ctx: ModelContext, startMs: number) =>
  new GenericModel(ctx, startMs);
