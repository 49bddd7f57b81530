import { Worker } from 'node:worker_threads';
import type { FloodWorkerData, FloodWorkerResult } from './flood-worker.js';
import { runLoad } from './loadgen.js';
import { ProcessMeter } from './procstat.js';
import { startAedes } from './relay.js';

/** The measured devices: well-behaved, 20 msg/s each (the broker's default limit is 500). */
export const FLOOD_DEVICES = 50;
export const FLOOD_DEVICE_RATE = 1000;

/** One run: the measured devices' publish → PUBACK latency, with or without a flooding client. */
export interface FloodRun {
  readonly label: string;
  /** The measured devices: offered msg/s in all, sent, acknowledged. */
  readonly offeredRate: number;
  readonly sent: number;
  readonly acked: number;
  readonly pubackMs: { readonly p50: number; readonly p99: number };
  /** QoS-0 messages the flooder wrote, and how many of them the broker took, per second. */
  readonly floodWritten: number;
  readonly floodAcceptedPerS: number;
  /** The broker's counters after the run. */
  readonly throttled: number;
  readonly cutOff: boolean;
  readonly shed: number;
  readonly brokerCpuS: number;
  readonly brokerPeakRssMB: number;
}

interface Variant {
  readonly label: string;
  readonly flood: boolean;
  readonly env: Record<string, string>;
}

const VARIANTS: readonly Variant[] = [
  { label: 'no flood', flood: false, env: {} },
  { label: 'flood, limits on (defaults)', flood: true, env: {} },
  { label: 'flood, no rate limit', flood: true, env: { PUBLISH_RATE_LIMIT: '0' } },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function nextMessage<T extends { type: string }>(worker: Worker, type: T['type']): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: T) => {
      if (m.type !== type) return;
      worker.off('message', onMessage);
      resolve(m);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}

/** Sums of the broker's Prometheus families we report. */
async function brokerFigures(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(url)).text();
  const sums: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const name = /^[a-z_]+/.exec(line)?.[0];
    if (name) sums[name] = (sums[name] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sums;
}

async function floodRun(root: string, v: Variant, durationMs: number): Promise<FloodRun> {
  const broker = await startAedes(root, v.env);
  const meter = new ProcessMeter(broker.pid);
  const tag = v.flood ? (v.env['PUBLISH_RATE_LIMIT'] === '0' ? 'nolimit' : 'limits') : 'none';
  const workerData: FloodWorkerData = {
    host: broker.host,
    port: broker.port,
    subscriberSuffix: `flood-${tag}-${process.pid}`,
    ...(v.flood ? { floodId: `bench-flooder-${tag}` } : {}),
  };
  const worker = new Worker(new URL('./flood-worker.js', import.meta.url), { workerData });
  try {
    await nextMessage(worker, 'ready');
    meter.start();
    worker.postMessage('start');
    await sleep(1000); // the flood is on before the measurement starts
    const started = performance.now();
    const load = await runLoad({
      host: broker.host,
      port: broker.port,
      devices: FLOOD_DEVICES,
      rate: FLOOD_DEVICE_RATE,
      durationMs,
      window: 20,
      prefix: `bench-calm-${tag}`,
      drainMs: 15_000,
    });
    const elapsedS = (performance.now() - started) / 1000 + 1;
    const result = nextMessage<FloodWorkerResult>(worker, 'result');
    worker.postMessage('stop');
    const w = await result;
    const { cpuS, peakRssBytes } = meter.stop();
    const f = await brokerFigures(broker.metricsUrl!);
    const accepted = (f['parkpulse_broker_messages_in_total'] ?? 0) - load.acked;
    return {
      label: v.label,
      offeredRate: FLOOD_DEVICE_RATE,
      sent: load.sent,
      acked: load.acked,
      pubackMs: load.pubackMs,
      floodWritten: w.floodWritten,
      floodAcceptedPerS: v.flood ? accepted / elapsedS : 0,
      throttled: f['parkpulse_broker_publish_throttled_total'] ?? 0,
      cutOff: w.floodCutOff,
      shed: f['parkpulse_broker_deliveries_shed_total'] ?? 0,
      brokerCpuS: cpuS,
      brokerPeakRssMB: peakRssBytes / 2 ** 20,
    };
  } finally {
    meter.stop();
    await worker.terminate();
    await broker.stop();
  }
}

/**
 * The effect of one flooding client on everyone else: 50 well-behaved devices publish QoS 1 at
 * 1,000 msg/s in all while one device writes QoS-0 messages as fast as TCP takes them, and a QoS-1
 * subscriber (standing in for the ingestion) takes everything. Three runs on a fresh broker
 * each: no flood; flood with the default limits; flood with the publish rate limit off.
 */
export async function floodBenchmark(o: { root: string; durationMs: number }): Promise<FloodRun[]> {
  const runs: FloodRun[] = [];
  for (const v of VARIANTS) runs.push(await floodRun(o.root, v, o.durationMs));
  return runs;
}
