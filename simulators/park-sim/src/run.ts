import { SimDevice, type SentMessage } from './device.js';
import type { DeviceSpec } from './fleet.js';

export interface RunOptions {
  readonly url: string;
  readonly devices: readonly DeviceSpec[];
  /** Milliseconds between two messages of one device; 0 = flat-out (limited by `window`). */
  readonly intervalMs: number;
  /** Stop each device after this many messages (unbounded when omitted: use `durationMs`). */
  readonly messagesPerDevice?: number;
  /** Stop after this long (ms). */
  readonly durationMs?: number;
  /** QoS-1 messages a device may have in flight when flat-out. */
  readonly window?: number;
  readonly seed?: number;
  readonly username?: string;
  readonly password?: string;
  /** Called for every message as it is published (a test's ledger of what was sent). */
  readonly onSent?: (message: SentMessage) => void;
  /** Called about once a second with the running totals. */
  readonly onProgress?: (report: RunReport) => void;
  readonly signal?: AbortSignal;
}

export interface RunReport {
  readonly devices: number;
  readonly sent: number;
  readonly acked: number;
  readonly failed: number;
  readonly elapsedS: number;
  readonly msgPerS: number;
  /** Publish → PUBACK latency percentiles, ms. */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number };
  readonly perDevice: Readonly<Record<string, { sent: number; acked: number; failed: number }>>;
}

/** Connects the fleet (one connection per device), publishes, disconnects, reports. */
export async function runFleet(options: RunOptions): Promise<RunReport> {
  const seed = options.seed ?? 1;
  const devices = options.devices.map((spec) => new SimDevice(spec, seed));
  const latencies: number[] = [];
  const started = performance.now();
  const deadline =
    options.durationMs !== undefined ? Date.now() + options.durationMs : Number.POSITIVE_INFINITY;
  if (
    options.messagesPerDevice === undefined &&
    options.durationMs === undefined &&
    !options.signal
  ) {
    throw new Error('give messagesPerDevice, durationMs or an abort signal: a run must end');
  }
  const report = () => summarise(devices, latencies, (performance.now() - started) / 1000);
  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.(report()), 1000)
    : undefined;

  try {
    // Connect in waves, not all at once: a real fleet does not arrive in the same millisecond.
    for (let i = 0; i < devices.length; i += 50) {
      await Promise.all(
        devices.slice(i, i + 50).map((d) => d.connect(options.url, credentials(options))),
      );
    }
    const more = (d: SimDevice) =>
      !options.signal?.aborted &&
      Date.now() < deadline &&
      (options.messagesPerDevice === undefined || d.counters.sent < options.messagesPerDevice);

    await Promise.all(
      devices.map(async (device, index) => {
        if (options.intervalMs > 0) {
          // Paced: spread the devices' phases over one interval.
          await sleep((index / devices.length) * options.intervalMs);
          let next = Date.now();
          while (more(device)) {
            void device.publishNext(latencies, options.onSent);
            next += options.intervalMs;
            await sleep(Math.max(0, next - Date.now()));
          }
        } else {
          const window = options.window ?? 10;
          const lanes = Array.from({ length: window }, async () => {
            while (more(device)) await device.publishNext(latencies, options.onSent);
          });
          await Promise.all(lanes);
        }
      }),
    );
    // Let in-flight publishes finish.
    const settle = Date.now() + 30_000;
    while (
      devices.some((d) => d.counters.acked + d.counters.failed < d.counters.sent) &&
      Date.now() < settle
    )
      await sleep(20);
  } finally {
    clearInterval(progress);
    await Promise.all(devices.map((d) => d.disconnect().catch(() => undefined)));
  }
  return report();
}

function credentials(options: RunOptions): { username?: string; password?: string } {
  return options.username ? { username: options.username, password: options.password ?? '' } : {};
}

function summarise(devices: SimDevice[], latencies: number[], elapsedS: number): RunReport {
  let sent = 0;
  let acked = 0;
  let failed = 0;
  const perDevice: Record<string, { sent: number; acked: number; failed: number }> = {};
  for (const d of devices) {
    sent += d.counters.sent;
    acked += d.counters.acked;
    failed += d.counters.failed;
    perDevice[d.spec.deviceId] = { ...d.counters };
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (q: number) =>
    Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 100) /
    100;
  return {
    devices: devices.length,
    sent,
    acked,
    failed,
    elapsedS: Math.round(elapsedS * 100) / 100,
    msgPerS: elapsedS > 0 ? Math.round(acked / elapsedS) : 0,
    latencyMs: { p50: pct(0.5), p95: pct(0.95), p99: pct(0.99) },
    perDevice,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
