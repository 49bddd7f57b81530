import type { SimDevice } from '../device.js';
import { FleetGenerator, scenarioFleet, type SimMessage } from '../generator.js';
import { summarise, type RunReport } from '../report.js';
import type { Scenario } from '../scenario.js';
import { connectFleet, connectInWaves, settle } from './connect.js';

export interface BackfillOptions {
  readonly url: string;
  readonly scenario: Scenario;
  /** How much history, ms, ending at `endMs`. */
  readonly durationMs: number;
  /** End of the history (default: now). */
  readonly endMs?: number;
  readonly groupKey?: string;
  readonly username?: string;
  readonly password?: string;
  /** Every generated message, in time order (for checks against what was stored). */
  readonly onMessage?: (message: SimMessage) => void;
  /** Keep the devices connected after the upload (the caller closes them). */
  readonly keepConnected?: boolean;
}

export interface BackfillResult extends RunReport {
  readonly startMs: number;
  readonly endMs: number;
  /** The devices, still connected when `keepConnected` was asked for. */
  readonly fleet: readonly SimDevice[];
  close(): Promise<void>;
}

/**
 * `backfill`: a scenario's history — the last `durationMs` of virtual time — generated at once and
 * uploaded the way devices upload what they buffered while offline: each device connects and
 * sends its samples as QoS-1 batches (≤ 1,000 samples, < 200 KiB), then its events. A fresh
 * InfluxDB shows hours of realistic data within seconds; dashboards have something to show.
 */
export async function backfill(options: BackfillOptions): Promise<BackfillResult> {
  const endMs = options.endMs ?? Date.now();
  const startMs = endMs - options.durationMs;
  const fleet = scenarioFleet(options.scenario);
  // The history as each device would have buffered it: samples in order, events beside them.
  const events: { device: number; json: string }[] = [];
  const latencies: number[] = [];
  const devices = await connectFleet(
    fleet,
    {
      ...options,
      seed: options.scenario.seed,
      bufferLimit: Number.POSITIVE_INFINITY,
      offline: true,
    },
    latencies,
  );
  const generator = new FleetGenerator(fleet, { ...options.scenario, malformedShare: 0 }, startMs);
  for (const message of generator.until(endMs)) {
    options.onMessage?.(message);
    const device = devices[message.device.index]!;
    if (message.kind === 'telemetry') void device.sendSample(message.payload);
    else if (message.kind === 'event')
      events.push({ device: message.device.index, json: JSON.stringify(message.payload) });
  }
  const started = performance.now();
  await connectInWaves(devices);
  for (const e of events) {
    const device = devices[e.device]!;
    void device.sendRaw(device.topics.event, e.json);
  }
  await settle(devices, 300_000);
  const report = summarise('backfill', devices, latencies, (performance.now() - started) / 1000);
  const close = async () => {
    await Promise.all(devices.map((d) => d.close()));
  };
  if (!options.keepConnected) await close();
  return { ...report, startMs, endMs, fleet: devices, close };
}
