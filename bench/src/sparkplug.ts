import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devRegistryFile, metricValue as metric, waitFor } from '@parkpulse/dev-services';
import { encodeSparkplugPayload, SPARKPLUG_DATATYPES as D } from '@parkpulse/telemetry';
import { BenchClient, pace, percentile } from './loadgen.js';
import { startPipeline, type PipelineEnv } from './pipeline.js';
import { ProcessMeter } from './procstat.js';

/** The host id the bench's registry names (spBv1.0/STATE/parkpulse-bench). */
export const BENCH_HOST_ID = 'parkpulse-bench';
/** The Sparkplug group of the bench's edge nodes. */
export const BENCH_GROUP = 'bench-sp';

/**
 * The six metrics of an energy meter as a PLC gateway names them; the default normalisation
 * makes them the catalogue's (`Active Power kW` → `active_power_kw`), so a DDATA stores the same
 * six fields as the JSON bench's message.
 */
const METRICS = [
  { name: 'Active Power kW', datatype: D.Float },
  { name: 'Energy kWh', datatype: D.Double },
  { name: 'Voltage V', datatype: D.Float },
  { name: 'Current A', datatype: D.Float },
  { name: 'Power Factor', datatype: D.Float },
  { name: 'Frequency Hz', datatype: D.Float },
] as const;
export const METRICS_PER_MESSAGE = METRICS.length;

/** The same values as the JSON bench's `benchPayload` for a `seq`. */
function values(seq: number): number[] {
  const p = 40 + (seq % 100) * 0.37;
  return [
    Number(p.toFixed(2)),
    Number((1000 + seq * 0.01).toFixed(2)),
    Number((230 + (seq % 7) * 0.1).toFixed(1)),
    Number((p * 4.35).toFixed(2)),
    0.96,
    Number((50 + (seq % 5) * 0.01).toFixed(2)),
  ];
}

/** Aliases are unique across an edge node's metrics: device j's metric k is 10·(j+1) + k. */
const aliasOf = (device: number, k: number) => 10 * (device + 1) + k;

const nodeId = (prefix: string, n: number) => `${prefix}-n${n}`;
const deviceId = (prefix: string, n: number, j: number) => `${prefix}-n${n}-m${j}`;

/**
 * The dev registry plus a `sparkplug:` section: `nodes` edge nodes (each a production line, a
 * device of the dev enrolment group: client id = username = edge node id) carrying
 * `devicesPerNode` energy meters each, in four Science City sites.
 */
export function benchRegistry(
  root: string,
  prefix: string,
  nodes: number,
  devicesPerNode: number,
): string {
  const lines = ['', 'sparkplug:', `  hostId: ${BENCH_HOST_ID}`, '  nodes:'];
  for (let n = 0; n < nodes; n++) {
    lines.push(
      `    - group: ${BENCH_GROUP}`,
      `      node: ${nodeId(prefix, n)}`,
      '      park: science-city',
      `      site: bench-${n % 4}`,
      '      assetType: production_line',
      `      deviceId: ${nodeId(prefix, n)}-line`,
      '      devices:',
    );
    for (let j = 0; j < devicesPerNode; j++)
      lines.push(
        `        - { id: meter-${j}, assetType: energy_meter, deviceId: ${deviceId(prefix, n, j)} }`,
      );
  }
  return `${readFileSync(devRegistryFile(root), 'utf8')}\n${lines.join('\n')}\n`;
}

export interface SparkplugRunOptions {
  /** DDATA messages per second over all devices; 0 = flat-out (every window kept full). */
  readonly rate: number;
  readonly durationMs: number;
  readonly nodes: number;
  readonly devicesPerNode: number;
  /** In-flight QoS-1 publishes per edge node (its one connection carries all its devices). */
  readonly window: number;
}

export interface SparkplugRun {
  readonly label: string;
  readonly nodes: number;
  readonly devices: number;
  readonly offeredRate: number;
  /** DDATA messages published and acknowledged. */
  readonly sent: number;
  readonly acked: number;
  readonly publishS: number;
  readonly sentPerS: number;
  /** DDATA points (one per message, six fields) found in InfluxDB after the run. */
  readonly stored: number;
  readonly lost: number;
  readonly storedPerS: number;
  readonly metricsPerS: number;
  readonly drainS: number;
  readonly pubackMs: { readonly p50: number; readonly p99: number };
  /** What the host counted: seq gaps, dead letters, rebirth requests (all 0 in a clean run). */
  readonly seqGaps: number;
  readonly rejects: number;
  readonly rebirthRequests: number;
  readonly broker: { readonly cpuSPer100k: number; readonly peakRssMB: number };
  readonly ingestion: { readonly cpuSPer100k: number; readonly peakRssMB: number };
  readonly influxd: { readonly cpuSPer100k: number; readonly peakRssMB: number };
  readonly loadgen: { readonly cpuSPer100k: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One Sparkplug B run on a fresh pipeline: `nodes` edge nodes, each one raw-TCP connection with
 * its NDEATH as the will (bdSeq 0), publish NBIRTH (seq 0, bdSeq, Node Control/Rebirth), a
 * DBIRTH per device (the six metrics with names, aliases and datatypes), then DDATA by alias
 * only (six metrics, payload and metric timestamps), all QoS 1, seq +1 per message of the node
 * and 255 → 0, at `rate` DDATA/s in all or flat-out, for `durationMs`. Then it waits until the
 * ingestion has acknowledged every message and counts the DDATA points in InfluxDB.
 */
export async function sparkplugRun(
  root: string,
  label: string,
  o: SparkplugRunOptions,
  env: PipelineEnv = {},
): Promise<SparkplugRun> {
  const prefix = `bsp-${label.replace(/[^a-z0-9]+/gi, '-')}`;
  const dir = mkdtempSync(join(tmpdir(), 'parkpulse-bench-sparkplug-'));
  const registry = join(dir, 'registry.yaml');
  writeFileSync(registry, benchRegistry(root, prefix, o.nodes, o.devicesPerNode));
  const pipeline = await startPipeline(root, {
    ...env,
    broker: { ...env.broker, REGISTRY_FILE: registry },
    ingestion: { ...env.ingestion, REGISTRY_FILE: registry },
  });
  const latencies: number[] = [];
  let measuring = false;
  const sample = (ms: number) => {
    if (measuring && latencies.length < 200_000) latencies.push(ms);
  };
  const clients: BenchClient[] = [];
  try {
    const base = pipeline.ingestionHttp;
    const acksBefore = await metric(base, 'parkpulse_ingest_acks_total');
    const brokerMeter = new ProcessMeter(pipeline.broker.pid ?? -1);
    const ingestionMeter = new ProcessMeter(pipeline.ingestion.pid ?? -1);
    const influxdMeter = new ProcessMeter(pipeline.influx.pid);
    const topic = (verb: string, n: number, j?: number) =>
      `spBv1.0/${BENCH_GROUP}/${verb}/${nodeId(prefix, n)}${j === undefined ? '' : `/meter-${j}`}`;
    const bdSeq = 0;
    const seq = new Array<number>(o.nodes).fill(0);
    const nextSeq = (n: number) => {
      const s = seq[n]!;
      seq[n] = (s + 1) & 0xff;
      return s;
    };
    let rebirths = 0;
    for (let n = 0; n < o.nodes; n++) {
      const c = new BenchClient(nodeId(prefix, n), '127.0.0.1', pipeline.mqttPort);
      clients.push(c);
    }
    const t0 = Date.now();
    // Log in (the will is the NDEATH with the session's bdSeq), then the births, 50 nodes at a time.
    for (let i = 0; i < o.nodes; i += 50)
      await Promise.all(
        clients.slice(i, i + 50).map(async (c, k) => {
          const n = i + k;
          await c.connect(sample, {
            topic: topic('NDEATH', n),
            payload: encodeSparkplugPayload({
              timestamp: t0,
              metrics: [{ name: 'bdSeq', datatype: D.Int64, value: bdSeq }],
            }),
            qos: 1,
          });
          c.subscribe(`spBv1.0/${BENCH_GROUP}/NCMD/${nodeId(prefix, n)}`, 0, () => rebirths++);
          c.publish(
            topic('NBIRTH', n),
            encodeSparkplugPayload({
              timestamp: t0,
              seq: nextSeq(n),
              metrics: [
                { name: 'bdSeq', datatype: D.Int64, value: bdSeq },
                { name: 'Node Control/Rebirth', datatype: D.Boolean, value: false },
              ],
            }),
          );
          const v = values(0);
          for (let j = 0; j < o.devicesPerNode; j++)
            c.publish(
              topic('DBIRTH', n, j),
              encodeSparkplugPayload({
                timestamp: t0,
                seq: nextSeq(n),
                metrics: METRICS.map((m, k) => ({
                  name: m.name,
                  alias: aliasOf(j, k),
                  datatype: m.datatype,
                  value: v[k]!,
                  timestamp: t0,
                })),
              }),
            );
        }),
      );
    await waitFor(
      'the BIRTHs acknowledged',
      () => Promise.resolve(clients.every((c) => c.inflight === 0)),
      60_000,
      20,
    );
    const births = clients.reduce((a, c) => a + c.acked, 0);

    brokerMeter.start();
    ingestionMeter.start();
    influxdMeter.start();
    const ownCpu = process.cpuUsage();
    measuring = true;
    const devices = o.nodes * o.devicesPerNode;
    const dseq = new Array<number>(devices).fill(0);
    const lastTs = new Array<number>(devices).fill(t0);
    const ddataTopics = Array.from({ length: devices }, (_, i) =>
      topic('DDATA', Math.floor(i / o.devicesPerNode), i % o.devicesPerNode),
    );
    const { sent, first, last } = await pace({
      devices,
      rate: o.rate,
      durationMs: o.durationMs,
      // An edge node's devices share its connection and its window.
      hasRoom: (i) => clients[Math.floor(i / o.devicesPerNode)]!.inflight < o.window,
      publish: (i) => {
        const n = Math.floor(i / o.devicesPerNode);
        const j = i % o.devicesPerNode;
        const ts = Math.max(Date.now(), lastTs[i]! + 1);
        lastTs[i] = ts;
        const v = values((dseq[i] = dseq[i]! + 1));
        clients[n]!.publish(
          ddataTopics[i]!,
          encodeSparkplugPayload({
            timestamp: ts,
            seq: nextSeq(n),
            metrics: METRICS.map((m, k) => ({
              alias: aliasOf(j, k),
              datatype: m.datatype,
              value: v[k]!,
              timestamp: ts,
            })),
          }),
        );
      },
    });
    const drainUntil = performance.now() + 60_000;
    while (clients.some((c) => c.inflight > 0) && performance.now() < drainUntil) await sleep(20);
    const acked = clients.reduce((a, c) => a + c.acked, 0) - births;
    let storedAt = Date.now();
    await waitFor(
      'every acknowledged message stored',
      async () => {
        const acks = await metric(base, 'parkpulse_ingest_acks_total');
        storedAt = Date.now();
        return acks - acksBefore >= births + acked;
      },
      600_000,
      25,
    );
    const broker = brokerMeter.stop();
    const ingestion = ingestionMeter.stop();
    const influxd = influxdMeter.stop();
    const own = process.cpuUsage(ownCpu);
    const [series = []] = await pipeline.store.query(
      `SELECT count("active_power_kw") FROM "energy_meter" WHERE "device" =~ /^${prefix}-/ AND time > ${t0}ms`,
    );
    // The DBIRTHs stored a point each at t0; DDATA points are after it.
    const stored = Number(series[0]?.values[0]?.[1] ?? 0);
    const publishS = Math.max(0.001, (last - first) / 1000);
    const per100k = (cpuS: number) => (cpuS / Math.max(1, sent)) * 100_000;
    const storedPerS = stored / publishS;
    latencies.sort((a, b) => a - b);
    return {
      label,
      nodes: o.nodes,
      devices,
      offeredRate: o.rate,
      sent,
      acked,
      publishS,
      sentPerS: sent / publishS,
      stored,
      lost: sent - stored,
      storedPerS,
      metricsPerS: storedPerS * METRICS_PER_MESSAGE,
      drainS: Math.max(0, (storedAt - last) / 1000),
      pubackMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
      seqGaps: await metric(base, 'parkpulse_ingest_sparkplug_notes_total', '{note="seq_gap"}'),
      rejects: await rejectsOf(base),
      rebirthRequests: rebirths,
      broker: { cpuSPer100k: per100k(broker.cpuS), peakRssMB: broker.peakRssBytes / 2 ** 20 },
      ingestion: {
        cpuSPer100k: per100k(ingestion.cpuS),
        peakRssMB: ingestion.peakRssBytes / 2 ** 20,
      },
      influxd: { cpuSPer100k: per100k(influxd.cpuS), peakRssMB: influxd.peakRssBytes / 2 ** 20 },
      loadgen: { cpuSPer100k: per100k((own.user + own.system) / 1e6) },
    };
  } finally {
    for (const c of clients) c.close();
    await pipeline.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every dead letter the ingestion counted, whatever its reason. */
async function rejectsOf(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('parkpulse_ingest_rejects_total{'))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}
