import {
  metricValue as metric,
  retryOnPortClash,
  startInfluxd,
  startPipelineServices,
  waitFor,
  type InfluxdHandle,
  type PipelineServices,
  type ServiceProcess,
} from '@parkpulse/dev-services';
import { DEFAULT_INFLUX_CONFIG, InfluxStore } from '@parkpulse/influx';
import { BenchClient, benchPayload, percentile, runLoad, type LoadResult } from './loadgen.js';
import { ProcessMeter } from './procstat.js';

/** influxd, the broker and the ingestion from their builds, on loopback, fresh every time. */
export interface Pipeline {
  readonly influx: InfluxdHandle;
  readonly store: InfluxStore;
  readonly broker: ServiceProcess;
  readonly ingestion: ServiceProcess;
  readonly mqttPort: number;
  readonly ingestionHttp: string;
  stop(): Promise<void>;
}

export interface PipelineEnv {
  readonly broker?: Record<string, string>;
  readonly ingestion?: Record<string, string>;
  /** Write CPU profiles (`--cpu-prof`) of the broker and the ingestion under this directory. */
  readonly profileDir?: string;
}

export function startPipeline(root: string, env: PipelineEnv = {}): Promise<Pipeline> {
  return retryOnPortClash(() => startPipelineOnce(root, env));
}

async function startPipelineOnce(root: string, env: PipelineEnv): Promise<Pipeline> {
  const influx = await startInfluxd();
  let services: PipelineServices;
  try {
    services = await startPipelineServices({
      root,
      influxUrl: influx.url,
      brokerId: 'bench',
      ...(env.broker ? { brokerEnv: env.broker } : {}),
      ...(env.ingestion ? { ingestionEnv: env.ingestion } : {}),
      ...(env.profileDir ? { profileDir: env.profileDir } : {}),
    });
  } catch (error) {
    await influx.stop();
    throw error;
  }
  const store = new InfluxStore({ ...DEFAULT_INFLUX_CONFIG, url: influx.url, timeoutMs: 60_000 });
  return {
    ...services,
    influx,
    store,
    async stop() {
      await services.stop();
      store.close();
      await influx.stop();
    },
  };
}

export interface PipelineRun {
  readonly label: string;
  readonly load: LoadResult;
  /** Points of the run found in InfluxDB after it (one per message). */
  readonly stored: number;
  readonly lost: number;
  /** From the last publish to the last message stored, s. */
  readonly drainS: number;
  /** Messages stored per second of publishing. */
  readonly storedPerS: number;
  readonly pointsPerS: number;
  readonly fieldsPerS: number;
  /** Zero loss and the last message stored within 3 s of the end of publishing. */
  readonly sustained: boolean;
  readonly broker: { readonly cpuSPer100k: number; readonly peakRssMB: number };
  readonly ingestion: { readonly cpuSPer100k: number; readonly peakRssMB: number };
  readonly influxd: { readonly cpuSPer100k: number; readonly peakRssMB: number };
  /** The load generator (this process) — it shares the cores with what it measures. */
  readonly loadgen: { readonly cpuSPer100k: number };
}

const FIELDS_PER_MESSAGE = 6;

/**
 * One end-to-end run on a fresh pipeline: `devices` publish 6-field QoS-1 messages at `rate`
 * (0 = flat-out) for `durationMs`; then wait until the ingestion has stored (and acknowledged)
 * every message, and count what InfluxDB holds.
 */
export async function pipelineRun(
  root: string,
  label: string,
  o: { rate: number; durationMs: number; devices: number; window: number },
  env: PipelineEnv = {},
): Promise<PipelineRun> {
  const pipeline = await startPipeline(root, env);
  try {
    const acksBefore = await metric(pipeline.ingestionHttp, 'parkpulse_ingest_acks_total');
    const brokerMeter = new ProcessMeter(pipeline.broker.pid ?? -1);
    const ingestionMeter = new ProcessMeter(pipeline.ingestion.pid ?? -1);
    const influxdMeter = new ProcessMeter(pipeline.influx.pid);
    brokerMeter.start();
    ingestionMeter.start();
    influxdMeter.start();
    const ownCpu = process.cpuUsage();
    const prefix = `bench-${label.replace(/[^a-z0-9]+/gi, '-')}`;
    const load = await runLoad({
      host: '127.0.0.1',
      port: pipeline.mqttPort,
      devices: o.devices,
      rate: o.rate,
      durationMs: o.durationMs,
      window: o.window,
      prefix,
    });
    let storedAt = Date.now();
    await waitFor(
      'every acknowledged message stored',
      async () => {
        const acks = await metric(pipeline.ingestionHttp, 'parkpulse_ingest_acks_total');
        storedAt = Date.now();
        return acks - acksBefore >= load.acked;
      },
      600_000,
      25,
    );
    const broker = brokerMeter.stop();
    const ingestion = ingestionMeter.stop();
    const influxd = influxdMeter.stop();
    const own = process.cpuUsage(ownCpu);
    const loadgenCpuS = (own.user + own.system) / 1e6;
    const [series = []] = await pipeline.store.query(
      `SELECT count("active_power_kw") FROM "energy_meter" WHERE "device" =~ /^${prefix}-/`,
    );
    const stored = Number(series[0]?.values[0]?.[1] ?? 0);
    const drainS = Math.max(0, (storedAt - load.lastPublishMs) / 1000);
    const per100k = (cpuS: number) => (cpuS / Math.max(1, load.sent)) * 100_000;
    const storedPerS = stored / load.publishS;
    return {
      label,
      load,
      stored,
      lost: load.sent - stored,
      drainS,
      storedPerS,
      pointsPerS: storedPerS,
      fieldsPerS: storedPerS * FIELDS_PER_MESSAGE,
      sustained: stored === load.sent && drainS <= 3,
      broker: { cpuSPer100k: per100k(broker.cpuS), peakRssMB: broker.peakRssBytes / 2 ** 20 },
      ingestion: {
        cpuSPer100k: per100k(ingestion.cpuS),
        peakRssMB: ingestion.peakRssBytes / 2 ** 20,
      },
      influxd: { cpuSPer100k: per100k(influxd.cpuS), peakRssMB: influxd.peakRssBytes / 2 ** 20 },
      loadgen: { cpuSPer100k: per100k(loadgenCpuS) },
    };
  } finally {
    await pipeline.stop();
  }
}

export interface LatencyRun {
  readonly rate: number;
  readonly probes: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly lost: number;
}

/**
 * Publish → stored latency under load: while `devices` publish at `rate`, a probe device
 * publishes 10 messages a second and the bench polls InfluxDB every 20 ms for the probe's last
 * `seq`; a message's latency is the time from its publish to the first poll that sees it
 * (so the figures include up to one poll interval and one query).
 */
export async function latencyRun(
  root: string,
  o: { rate: number; durationMs: number; devices: number; window: number },
): Promise<LatencyRun> {
  const pipeline = await startPipeline(root);
  const probe = new BenchClient('bench-probe', '127.0.0.1', pipeline.mqttPort);
  try {
    await probe.connect();
    const topic = 'parks/science-city/bench-probe/energy_meter/bench-probe/telemetry';
    const publishedAt: number[] = [];
    const seenAt: number[] = [];
    let running = true;
    const publisher = (async () => {
      for (let seq = 1; running; seq++) {
        const t = Date.now();
        publishedAt[seq] = t;
        probe.publish(topic, benchPayload(t, seq));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const poller = (async () => {
      let seen = 0;
      while (running || seen < publishedAt.length - 1) {
        const [series = []] = await pipeline.store.query(
          `SELECT last("seq") FROM "energy_meter" WHERE "device" = 'bench-probe'`,
        );
        const now = Date.now();
        const last = Number(series[0]?.values[0]?.[1] ?? 0);
        for (let k = seen + 1; k <= last; k++) seenAt[k] = now;
        seen = Math.max(seen, last);
        if (!running && now - (publishedAt.at(-1) ?? now) > 10_000) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await runLoad({
      host: '127.0.0.1',
      port: pipeline.mqttPort,
      devices: o.devices,
      rate: o.rate,
      durationMs: o.durationMs,
      window: o.window,
      prefix: 'bench-latency',
    });
    running = false;
    await publisher;
    await poller;
    const latencies: number[] = [];
    let lost = 0;
    for (let k = 1; k < publishedAt.length; k++) {
      const seen = seenAt[k];
      const published = publishedAt[k];
      if (published === undefined) continue;
      if (seen === undefined) lost++;
      else latencies.push(seen - published);
    }
    latencies.sort((a, b) => a - b);
    return {
      rate: o.rate,
      probes: latencies.length + lost,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      maxMs: latencies.at(-1) ?? 0,
      lost,
    };
  } finally {
    probe.destroy();
    await pipeline.stop();
  }
}
