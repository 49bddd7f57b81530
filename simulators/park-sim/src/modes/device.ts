import { getAssetType, type ParkId } from '@parkpulse/telemetry';
import { SimDevice, type ConnectionFaults, type DeviceAddress } from '../device.js';
import { createModel } from '../models/index.js';
import { createRng } from '../rng.js';
import { loginOf, sleep, type DeviceLogin } from './connect.js';

/**
 * Every way `park-sim device` can break the contract on purpose, one clause each: what a
 * firmware engineer points the conformance tester at to see a clause fail.
 */
export const DEVICE_FAULTS = [
  'seconds-ts',
  'seq-back',
  'out-of-range',
  'wrong-topic',
  'no-will',
  'no-retained-status',
  'no-backoff',
  'qos0',
  'long-keepalive',
] as const;
export type DeviceFault = (typeof DEVICE_FAULTS)[number];

export interface DeviceRunOptions extends DeviceLogin {
  readonly url: string;
  readonly address: DeviceAddress;
  /** How long to publish; stops early on `signal`. */
  readonly durationMs: number;
  readonly faults?: readonly DeviceFault[];
  readonly seed?: number;
  /** Reconnect back-off (first delay and ceiling), ms. */
  readonly backoffMs?: { readonly min: number; readonly max: number };
  /** Telemetry interval, ms (default: the asset type's report interval). */
  readonly intervalMs?: number;
  readonly signal?: AbortSignal;
}

export interface DeviceRunResult {
  readonly samples: number;
  readonly acked: number;
  readonly connects: number;
}

/**
 * One simulated device of a catalogue asset type, live: readings from its model at its report
 * interval, `ts` in epoch ms, `seq` from 1, QoS 1, retained `online`, `offline` as last will,
 * reconnect with back-off and jitter — unless a fault says otherwise.
 */
export class ContractDevice {
  readonly device: SimDevice;
  private readonly faults: ReadonlySet<DeviceFault>;
  private seq = 0;
  private sent = 0;

  constructor(private readonly options: DeviceRunOptions) {
    const asset = getAssetType(options.address.assetType);
    if (!asset) throw new Error(`unknown asset type "${options.address.assetType}"`);
    this.faults = new Set(options.faults ?? []);
    const f = this.faults;
    const connectionFaults: ConnectionFaults = {
      noWill: f.has('no-will'),
      noRetainedStatus: f.has('no-retained-status'),
      noBackoff: f.has('no-backoff'),
      qos0: f.has('qos0'),
      longKeepalive: f.has('long-keepalive'),
    };
    this.device = new SimDevice(options.address, {
      url: options.url,
      ...loginOf(options.address.deviceId, options),
      rng: createRng(options.seed ?? 7),
      faults: connectionFaults,
      ...(options.backoffMs ? { backoffMs: options.backoffMs } : {}),
    });
  }

  /** Connects, publishes for the duration, closes (graceful: `offline`, DISCONNECT). */
  async run(): Promise<DeviceRunResult> {
    const { address, durationMs, signal } = this.options;
    const asset = getAssetType(address.assetType)!;
    const intervalMs = this.options.intervalMs ?? asset.reportIntervalS * 1000;
    const model = createModel(
      {
        deviceId: address.deviceId,
        asset,
        park: address.park as ParkId,
        site: address.site,
        seed: this.options.seed ?? 7,
      },
      Date.now(),
    );
    await this.device.connect();
    const end = Date.now() + durationMs;
    let due = Date.now();
    while (Date.now() < end && !signal?.aborted) {
      const now = Date.now();
      this.publishSample(now, model.step(now).metrics);
      due += intervalMs;
      await sleep(Math.max(0, due - Date.now()));
    }
    await this.device.close();
    const c = this.device.counters;
    return { samples: c.samples, acked: c.samplesAcked, connects: c.connects };
  }

  private publishSample(now: number, metrics: Record<string, unknown>): void {
    const f = this.faults;
    this.sent++;
    this.seq++;
    // A counter that goes back: every 8th sample re-uses a seq of 5 samples before.
    if (f.has('seq-back') && this.sent % 8 === 0) this.seq -= 5;
    const sample = {
      ts: f.has('seconds-ts') ? Math.floor(now / 1000) : now,
      seq: this.seq,
      metrics: { ...metrics },
    };
    if (f.has('out-of-range') && this.sent % 3 === 0) {
      const name = firstRangedMetric(this.options.address.assetType);
      if (name) sample.metrics[name] = 1e12;
    }
    void this.device.sendSample(sample);
    if (f.has('wrong-topic')) {
      // A copy under a site that breaks [a-z0-9-]{1,32}: the broker's rights allow it (the
      // enrolment covers every site), the contract does not.
      const { park, assetType, deviceId } = this.options.address;
      const topic = `parks/${park}/Plant-A/${assetType}/${deviceId}/telemetry`;
      void this.device.sendRaw(topic, JSON.stringify(sample));
    }
  }
}

/** A numeric metric of the asset type with a max below 10^12 (the out-of-range fault breaks it). */
function firstRangedMetric(assetType: string): string | undefined {
  const asset = getAssetType(assetType);
  return Object.entries(asset?.metrics ?? {}).find(
    ([, spec]) =>
      (spec.kind === 'gauge' || spec.kind === 'counter') &&
      spec.max !== undefined &&
      spec.max < 1e12,
  )?.[0];
}
