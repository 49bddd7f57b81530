import type { FieldValue } from '@parkpulse/telemetry';
import type { FleetDevice } from '../generator.js';
import { createModel } from '../models/index.js';
import { summarise, type RunReport } from '../report.js';
import { connectFleet, settle, sleep } from './connect.js';

export interface SentSample {
  readonly deviceId: string;
  readonly seq: number;
  readonly ts: number;
  readonly metrics: Record<string, FieldValue>;
}

export interface LoadOptions {
  readonly url: string;
  readonly devices: readonly FleetDevice[];
  /** Messages per second per device; 0 = flat-out (each device keeps `window` publishes in flight). */
  readonly ratePerDevice: number;
  readonly messagesPerDevice?: number;
  readonly durationMs?: number;
  readonly window?: number;
  readonly seed?: number;
  readonly groupKey?: string;
  readonly username?: string;
  readonly password?: string;
  readonly onSent?: (sample: SentSample) => void;
  readonly onProgress?: (report: RunReport) => void;
  readonly signal?: AbortSignal;
}

/**
 * `load`: N devices × a rate (or flat-out), bounded by a count or a time. Readings come from each
 * asset's model at wall-clock time; `ts` is unique per device (InfluxDB keeps one point per
 * series and timestamp).
 */
export async function runLoad(options: LoadOptions): Promise<RunReport> {
  if (
    options.messagesPerDevice === undefined &&
    options.durationMs === undefined &&
    !options.signal
  ) {
    throw new Error('give messagesPerDevice, durationMs or an abort signal: a run must end');
  }
  const latencies: number[] = [];
  const seed = options.seed ?? 1;
  const devices = await connectFleet(options.devices, options, latencies);
  const started = performance.now();
  const deadline =
    options.durationMs !== undefined ? Date.now() + options.durationMs : Number.POSITIVE_INFINITY;
  const report = () => summarise('load', devices, latencies, (performance.now() - started) / 1000);
  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.(report()), 1000)
    : undefined;
  try {
    await Promise.all(
      devices.map(async (device, i) => {
        const spec = options.devices[i]!;
        const model = createModel(
          { deviceId: spec.deviceId, asset: spec.asset, park: spec.park, site: spec.site, seed },
          Date.now(),
        );
        let seq = 0;
        let lastTs = 0;
        const more = () =>
          !options.signal?.aborted &&
          Date.now() < deadline &&
          (options.messagesPerDevice === undefined || seq < options.messagesPerDevice);
        const next = () => {
          const ts = Math.max(Date.now(), lastTs + 1);
          lastTs = ts;
          const sample = { ts, seq: ++seq, metrics: model.step(ts).metrics };
          options.onSent?.({ deviceId: spec.deviceId, ...sample });
          return device.sendSample(sample);
        };
        if (options.ratePerDevice > 0) {
          const interval = 1000 / options.ratePerDevice;
          await sleep((i / devices.length) * interval); // spread the phases
          let due = Date.now();
          while (more()) {
            void next();
            due += interval;
            await sleep(Math.max(0, due - Date.now()));
          }
        } else {
          const lanes = Array.from({ length: options.window ?? 10 }, async () => {
            while (more()) {
              // Offline, a sample only goes to the buffer: let timers and I/O (the reconnect) run.
              if (!device.connected) await sleep(50);
              await next();
            }
          });
          await Promise.all(lanes);
        }
      }),
    );
    await settle(devices);
  } finally {
    clearInterval(progress);
    await Promise.all(devices.map((d) => d.close()));
  }
  return report();
}
