import { getAssetType, type AssetTypeSpec, type ParkId } from '@parkpulse/telemetry';
import { createModel } from './models/index.js';
import type { Incident } from './models/model.js';
import { withCommands, type CommandableModel, type CommandOutcome } from './models/commands.js';
import { createRng, hashString } from './rng.js';
import type { Scenario } from './scenario.js';

export interface FleetDevice {
  readonly index: number;
  readonly park: ParkId;
  readonly site: string;
  readonly asset: AssetTypeSpec;
  readonly deviceId: string;
  readonly intervalMs: number;
  /** Offset of this device's clock, ms (0 for most). */
  readonly skewMs: number;
}

export type SimMessage =
  | {
      readonly kind: 'telemetry';
      readonly t: number;
      readonly device: FleetDevice;
      readonly payload: { ts: number; seq: number; metrics: Record<string, unknown> };
    }
  | {
      readonly kind: 'event';
      readonly t: number;
      readonly device: FleetDevice;
      readonly payload: { ts: number; code: string; severity: string; message: string };
    }
  | {
      readonly kind: 'malformed';
      readonly t: number;
      readonly device: FleetDevice;
      readonly payload: string;
    };

const PARK_PREFIX: Record<ParkId, string> = {
  'science-city': 'sc',
  yuzhu: 'yz',
  'knowledge-city': 'kc',
  'bio-island': 'bi',
};

/** The devices of a scenario, in file order, with stable ids: `{park}-{site}-{asset}-{nnnn}`. */
export function scenarioFleet(scenario: Scenario): FleetDevice[] {
  const devices: FleetDevice[] = [];
  const rng = createRng(scenario.seed ^ 0x5eed);
  for (const group of scenario.fleet) {
    for (const [assetType, count] of Object.entries(group.devices)) {
      const asset = getAssetType(assetType)!;
      const short = asset.id.replace(/_/g, '-');
      for (let n = 1; n <= count; n++) {
        const skewed = scenario.clockSkew && rng() < scenario.clockSkew.share;
        devices.push({
          index: devices.length,
          park: group.park,
          site: group.site,
          asset,
          deviceId:
            `${PARK_PREFIX[group.park]}-${group.site}-${short}-${String(n).padStart(4, '0')}`.slice(
              0,
              64,
            ),
          intervalMs: Math.max(
            10,
            Math.round(asset.reportIntervalS * 1000 * scenario.intervalScale),
          ),
          skewMs: skewed ? Math.round((rng() * 2 - 1) * scenario.clockSkew!.maxMs) : 0,
        });
      }
    }
  }
  return devices;
}

interface Slot {
  due: number;
  readonly device: FleetDevice;
  readonly model: CommandableModel;
  readonly rng: () => number;
  seq: number;
}

/**
 * The deterministic message stream of a fleet: each device reports every `intervalMs` from a
 * seeded phase, in virtual time. `until(t)` yields every message due up to `t`, ordered by time
 * then device; the same scenario, seed and start give the same messages whatever the steps.
 */
export class FleetGenerator {
  private readonly heap: Slot[] = [];

  constructor(
    readonly devices: readonly FleetDevice[],
    private readonly scenario: Pick<Scenario, 'seed' | 'malformedShare'>,
    readonly startMs: number,
  ) {
    for (const device of devices) {
      const seed = scenario.seed ^ hashString(device.deviceId);
      const rng = createRng(seed ^ 0x9e3779b9);
      const phase = Math.floor(rng() * device.intervalMs);
      const model = withCommands(
        createModel(
          {
            deviceId: device.deviceId,
            asset: device.asset,
            park: device.park,
            site: device.site,
            seed: scenario.seed,
          },
          startMs,
        ),
        device.asset.id,
      );
      this.push({ due: startMs + phase, device, model, rng, seq: 0 });
    }
  }

  /**
   * An incident on device `index` at virtual time `tMs` (false when its asset has none); the
   * device reports at once, as after a command.
   */
  incident(index: number, kind: Incident, tMs: number, durationMs: number): boolean {
    const slot = this.heap.find((s) => s.device.index === index);
    if (!slot?.model.incident?.(kind, tMs, durationMs)) return false;
    this.reportAt(slot, tMs);
    return true;
  }

  /**
   * A command to device `index` at virtual time `tMs`: the model's answer, and when the command
   * changed something, the device reports at once (at `tMs`) instead of at its next interval.
   */
  command(
    index: number,
    name: string,
    params: Record<string, number | boolean | string>,
    tMs: number,
  ): CommandOutcome {
    const slot = this.heap.find((s) => s.device.index === index);
    if (!slot) return { status: 'rejected', reason: 'unknown_device', message: 'no such device' };
    const outcome = slot.model.command(name, params, tMs);
    if (outcome.status !== 'rejected') this.reportAt(slot, tMs);
    return outcome;
  }

  /** The device's next report moves to `tMs` (never before its previous one). */
  private reportAt(slot: Slot, tMs: number): void {
    const previous = slot.due - slot.device.intervalMs;
    const due = Math.max(previous + 1, Math.min(slot.due, Math.round(tMs)));
    if (due < slot.due) {
      slot.due = due;
      this.heap.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    }
  }

  /** Every message due at or before `t` (virtual ms). */
  *until(t: number): Generator<SimMessage> {
    while (this.heap.length > 0 && this.heap[0]!.due <= t) {
      const slot = this.pop();
      const { device } = slot;
      const out = slot.model.step(slot.due);
      const ts = slot.due + device.skewMs;
      if (this.scenario.malformedShare > 0 && slot.rng() < this.scenario.malformedShare) {
        yield {
          kind: 'malformed',
          t: slot.due,
          device,
          payload: MALFORMED[Math.floor(slot.rng() * MALFORMED.length)]!(ts),
        };
      } else {
        slot.seq++;
        yield {
          kind: 'telemetry',
          t: slot.due,
          device,
          payload: { ts, seq: slot.seq, metrics: out.metrics },
        };
      }
      for (const event of out.events) {
        yield {
          kind: 'event',
          t: slot.due,
          device,
          payload: { ts, code: event.code, severity: event.severity, message: event.message },
        };
      }
      slot.due += device.intervalMs;
      this.push(slot);
    }
  }

  private push(slot: Slot): void {
    const h = this.heap;
    h.push(slot);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Slot {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Slot, b: Slot): boolean {
  return a.due < b.due || (a.due === b.due && a.device.index < b.device.index);
}

/** Malformed payloads a careless firmware sends; each must become a dead letter. */
const MALFORMED: readonly ((ts: number) => string)[] = [
  () => 'temperature=41.2',
  (ts) => `{"ts": ${ts}, "metrics": {"bad name": 1}}`,
  (ts) => `{"ts": ${ts + 86_400_000}, "metrics": {"x": 1}}`,
  (ts) => `{"ts": ${Math.floor(ts / 1000)}, "metrics": {"x": 1}}`,
  () => '{"metrics": [1, 2, 3]}',
];

/** Serialises a message's payload exactly as it goes on the wire. */
export function wirePayload(message: SimMessage): string {
  return typeof message.payload === 'string' ? message.payload : JSON.stringify(message.payload);
}
