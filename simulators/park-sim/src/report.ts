import type { SimDevice } from './device.js';

export interface RunReport {
  readonly mode: string;
  readonly devices: number;
  /** Telemetry samples produced (published or buffered). */
  readonly sent: number;
  /** Samples in messages the broker acknowledged. */
  readonly acked: number;
  /** Messages whose publish failed. */
  readonly failed: number;
  /** Samples still in offline buffers or dropped from them. */
  readonly unsent: number;
  readonly malformed: number;
  readonly messages: number;
  readonly reconnects: number;
  readonly elapsedS: number;
  readonly msgPerS: number;
  /** Publish → PUBACK latency percentiles, ms. */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number };
  readonly perDevice: Readonly<Record<string, { sent: number; acked: number; failed: number }>>;
}

export function percentile(sorted: readonly number[], q: number): number {
  return (
    Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 100) /
    100
  );
}

export function summarise(
  mode: string,
  devices: readonly SimDevice[],
  latencies: readonly number[],
  elapsedS: number,
): RunReport {
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let unsent = 0;
  let malformed = 0;
  let messages = 0;
  let reconnects = 0;
  const perDevice: Record<string, { sent: number; acked: number; failed: number }> = {};
  for (const d of devices) {
    const c = d.counters;
    sent += c.samples;
    acked += c.samplesAcked;
    failed += c.failed;
    unsent += c.buffered + c.droppedOffline;
    malformed += c.malformed;
    messages += c.messages;
    reconnects += Math.max(0, c.connects - 1);
    perDevice[d.deviceId] = { sent: c.samples, acked: c.samplesAcked, failed: c.failed };
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    mode,
    devices: devices.length,
    sent,
    acked,
    failed,
    unsent,
    malformed,
    messages,
    reconnects,
    elapsedS: Math.round(elapsedS * 100) / 100,
    msgPerS: elapsedS > 0 ? Math.round(acked / elapsedS) : 0,
    latencyMs: {
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      p99: percentile(sorted, 0.99),
    },
    perDevice,
  };
}

/** The report without the per-device detail, for a table. */
export function summaryRows(report: RunReport): Record<string, string | number> {
  return {
    mode: report.mode,
    devices: report.devices,
    'samples sent': report.sent,
    'samples acked': report.acked,
    'publishes failed': report.failed,
    'samples unsent': report.unsent,
    'malformed sent': report.malformed,
    reconnects: report.reconnects,
    'elapsed s': report.elapsedS,
    'msg/s': report.msgPerS,
    'ack p50 ms': report.latencyMs.p50,
    'ack p95 ms': report.latencyMs.p95,
    'ack p99 ms': report.latencyMs.p99,
  };
}
