#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem, release } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { floodBenchmark } from './flood.js';
import { idleConnections } from './idle.js';
import { influxCeiling } from './influx-ceiling.js';
import { outageMemory } from './outage-memory.js';
import { latencyRun, pipelineRun, type PipelineRun } from './pipeline.js';
import { relayBenchmark } from './relay.js';
import { METRICS_PER_MESSAGE, sparkplugRun, type SparkplugRun } from './sparkplug.js';

/**
 * `npm run bench`: the end-to-end pipeline (broker, ingestion, a fresh influxd) under load, side by
 * side with the broker alone, Debian's Mosquitto and InfluxDB's raw write ceiling. Prints tables
 * and writes bench/results/<date>.json. Everything runs on this machine's cores, the load
 * generator included; see docs/performance.md for the method.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const SECTIONS = [
  'ceiling',
  'relay',
  'sustained',
  'flatout',
  'latency',
  'puback',
  'idle',
  'flood',
  'sparkplug',
  'outage-memory',
] as const;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rates: { type: 'string' },
    duration: { type: 'string' },
    devices: { type: 'string', default: '200' },
    window: { type: 'string', default: '20' },
    connections: { type: 'string', default: '10000' },
    profile: { type: 'string' },
    'sp-rate': { type: 'string', default: '10000' },
    'sp-nodes': { type: 'string', default: '50' },
    'sp-devices': { type: 'string', default: '4' },
    'sp-window': { type: 'string', default: '80' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`npm run bench [-- options]
  --quick                 short runs (10 s) and two rates: a smoke run, not figures to quote
  --only a,b              sections: ${SECTIONS.join(', ')} (default all)
  --rates 10000,20000     offered msg/s for the sustained search (stops at the first that fails)
  --duration 30           seconds per pipeline run (default 30; quick 10)
  --devices 200           publishing devices   --window 20   in-flight QoS-1 messages per device
  --connections 10000     idle connections for the broker memory figure
  --profile <dir>         write --cpu-prof profiles of the broker and the ingestion there
                          (outage-memory: the ingestion's heap snapshot 60 s after the replay)
  --sp-rate 10000         sparkplug: the paced DDATA msg/s (then flat-out), the JSON run beside it
  --sp-nodes 50 --sp-devices 4 --sp-window 80
                          sparkplug: edge nodes, devices per node, in-flight messages per node
  outage-memory runs at 2,000 msg/s, or at the first of --rates`);
  process.exit(0);
}

const quick = values.quick;
const durationMs = Number(values.duration ?? (quick ? 10 : 30)) * 1000;
const devices = Number(values.devices);
const window = Number(values.window);
const rates = (values.rates ?? (quick ? '5000,10000' : '10000,20000,30000,40000,50000,60000'))
  .split(',')
  .map(Number);
const env = values.profile ? { profileDir: resolve(values.profile) } : {};
const only = new Set<Section>(
  (values.only ? values.only.split(',') : SECTIONS).filter((s): s is Section =>
    (SECTIONS as readonly string[]).includes(s),
  ),
);

const version = (cmd: string, args: string[]) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
  } catch {
    return 'not found';
  }
};

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGB: Math.round(totalmem() / 2 ** 30),
  freeMemoryGB: Math.round(freemem() / 2 ** 30),
  kernel: release(),
  node: process.version,
  influxd: version('influxd', ['version']),
  mosquitto: version('dpkg-query', ['-W', '-f=${Version}', 'mosquitto']),
};

const results: Record<string, unknown> = { date: new Date().toISOString(), machine, quick };
const log = (s: string) => console.log(s);
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function table(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const [n, r] of cells.entries()) {
    log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    if (n === 0) log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  log('');
}

const runRow = (r: PipelineRun) => [
  r.label,
  fmt(r.load.offeredRate),
  fmt(r.load.sentPerS),
  fmt(r.storedPerS),
  fmt(r.fieldsPerS),
  fmt(r.lost),
  fmt(r.drainS, 1),
  r.sustained ? 'yes' : 'no',
  fmt(r.broker.cpuSPer100k, 1),
  fmt(r.ingestion.cpuSPer100k, 1),
  fmt(r.influxd.cpuSPer100k, 1),
  fmt(r.loadgen.cpuSPer100k, 1),
  fmt(r.broker.peakRssMB),
  fmt(r.ingestion.peakRssMB),
  fmt(r.load.pubackMs.p50, 1),
  fmt(r.load.pubackMs.p99, 1),
];
const RUN_HEADERS = [
  'run',
  'offered/s',
  'sent/s',
  'stored msg/s',
  'fields/s',
  'lost',
  'drain s',
  'sustained',
  'broker cpu-s/100k',
  'ingest cpu-s/100k',
  'influxd cpu-s/100k',
  'loadgen cpu-s/100k',
  'broker MB',
  'ingest MB',
  'PUBACK p50 ms',
  'p99 ms',
];

log(`ParkPulse bench — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
log(
  `${devices} devices, 6-field QoS-1 messages, ${durationMs / 1000} s per run${quick ? ' (quick)' : ''}\n`,
);

if (only.has('ceiling')) {
  const ceiling = [];
  for (const writers of [1, 2])
    ceiling.push(await influxCeiling({ writers, durationMs: quick ? 5000 : 10_000 }));
  results['influxCeiling'] = ceiling;
  log('InfluxDB raw write ceiling (line protocol, 5,000-point batches)');
  table(
    ['writers', 'points/s', 'batch p50 ms'],
    ceiling.map((c) => [c.writers, fmt(c.pointsPerS), fmt(c.batchP50Ms, 1)]),
  );
}

if (only.has('relay')) {
  const relay = [];
  for (const broker of ['aedes', 'mosquitto'] as const)
    for (const publishers of [20, 500])
      relay.push(
        await relayBenchmark({ broker, publishers, durationMs: quick ? 5000 : 15_000, root: ROOT }),
      );
  results['relay'] = relay;
  log('Broker alone: QoS-1 relay to one subscriber (flat-out)');
  table(
    ['broker', 'publishers', 'sent/s', 'delivered/s', 'loss %', 'cpu-s', 'peak MB'],
    relay.map((r) => [
      r.broker,
      r.publishers,
      fmt(r.sentPerS),
      fmt(r.deliveredPerS),
      fmt(r.lossPct, 2),
      fmt(r.brokerCpuS, 1),
      fmt(r.brokerPeakRssMB),
    ]),
  );
}

const runs: PipelineRun[] = [];
if (only.has('sustained')) {
  for (const rate of rates) {
    const run = await pipelineRun(
      ROOT,
      `${rate / 1000}k`,
      { rate, durationMs, devices, window },
      env,
    );
    runs.push(run);
    log(`  ${runRow(run).join('  ')}`);
    if (!run.sustained || run.storedPerS < rate * 0.95) break;
  }
  const best = runs.filter((r) => r.sustained && r.storedPerS >= r.load.offeredRate * 0.95).at(-1);
  results['sustained'] = { runs, bestOfferedRate: best?.load.offeredRate ?? 0 };
  log(
    '\nEnd to end, offered rate steps (a step passes with zero loss, drain ≤ 3 s, ≥ 95 % of the rate)',
  );
  table(RUN_HEADERS, runs.map(runRow));
  log(
    `highest sustained rate: ${best ? `${fmt(best.load.offeredRate)} msg/s (${fmt(best.fieldsPerS)} fields/s)` : 'none'}\n`,
  );
}

if (only.has('flatout')) {
  const run = await pipelineRun(ROOT, 'flat-out', { rate: 0, durationMs, devices, window }, env);
  results['flatOut'] = run;
  log('End to end, flat-out (every device keeps its window full)');
  table(RUN_HEADERS, [runRow(run)]);
}

if (only.has('latency')) {
  const latency = await latencyRun(ROOT, { rate: 20_000, durationMs, devices, window });
  results['latency'] = latency;
  log('Publish → stored latency at 20,000 msg/s (probe device, InfluxDB polled every 20 ms)');
  table(
    ['rate', 'probes', 'p50 ms', 'p99 ms', 'max ms', 'lost'],
    [
      [
        fmt(latency.rate),
        latency.probes,
        fmt(latency.p50Ms),
        fmt(latency.p99Ms),
        fmt(latency.maxMs),
        latency.lost,
      ],
    ],
  );
}

if (only.has('puback')) {
  const run = await pipelineRun(ROOT, '1k', { rate: 1000, durationMs, devices, window }, env);
  results['puback'] = run;
  log('Publish → PUBACK at 1,000 msg/s (a PUBACK means stored: the round trip to InfluxDB)');
  table(RUN_HEADERS, [runRow(run)]);
}

if (only.has('idle')) {
  const idle = await idleConnections({ connections: Number(values.connections), root: ROOT });
  results['idle'] = idle;
  log('Idle device connections to the broker');
  table(
    ['connections', 'RSS before MB', 'RSS after MB', 'KB per connection', 'connect s'],
    [
      [
        fmt(idle.connections),
        fmt(idle.rssBeforeMB),
        fmt(idle.rssAfterMB),
        fmt(idle.perConnectionKB, 1),
        fmt(idle.connectS, 1),
      ],
    ],
  );
}

if (only.has('flood')) {
  const flood = await floodBenchmark({ root: ROOT, durationMs: quick ? 5000 : 15_000 });
  results['flood'] = flood;
  log(
    `One flooding client (QoS 0, flat-out) vs ${fmt(flood[0]?.offeredRate ?? 0)} msg/s of QoS-1 from 50 other devices: their publish → PUBACK latency`,
  );
  table(
    [
      'run',
      'devices sent',
      'acked',
      'PUBACK p50 ms',
      'p99 ms',
      'flood taken/s',
      'throttled',
      'cut off',
      'shed',
      'broker cpu-s',
      'broker MB',
    ],
    flood.map((r) => [
      r.label,
      fmt(r.sent),
      fmt(r.acked),
      fmt(r.pubackMs.p50, 1),
      fmt(r.pubackMs.p99, 1),
      fmt(r.floodAcceptedPerS),
      fmt(r.throttled),
      r.cutOff ? 'yes' : 'no',
      fmt(r.shed),
      fmt(r.brokerCpuS, 1),
      fmt(r.brokerPeakRssMB),
    ]),
  );
}

if (only.has('sparkplug')) {
  const nodes = Number(values['sp-nodes']);
  const perNode = Number(values['sp-devices']);
  const spWindow = Number(values['sp-window']);
  const spRate = Number(values['sp-rate']);
  const rows: { sparkplug: SparkplugRun; json: PipelineRun }[] = [];
  for (const rate of [spRate, 0]) {
    const name = rate > 0 ? `${rate / 1000}k` : 'flat-out';
    const sparkplug = await sparkplugRun(
      ROOT,
      `sp-${name}`,
      { rate, durationMs, nodes, devicesPerNode: perNode, window: spWindow },
      env,
    );
    // The same devices, the same metrics per message, at the same offered rate (or flat-out).
    const json = await pipelineRun(
      ROOT,
      `json-${name}`,
      { rate, durationMs, devices: nodes * perNode, window },
      env,
    );
    rows.push({ sparkplug, json });
  }
  results['sparkplug'] = rows;
  log(
    `Sparkplug B end to end: ${nodes} edge nodes × ${perNode} devices (NBIRTH with bdSeq, DBIRTH with aliases, DDATA by alias, QoS 1, ${METRICS_PER_MESSAGE} metrics), beside JSON from ${nodes * perNode} devices`,
  );
  const row = (kind: string, r: SparkplugRun | PipelineRun) => {
    const sp = 'seqGaps' in r ? r : undefined;
    const load = sp ?? (r as PipelineRun).load;
    return [
      `${kind} ${load.offeredRate > 0 ? fmt(load.offeredRate) : 'flat-out'}`,
      fmt(load.sentPerS),
      fmt(r.storedPerS),
      fmt(r.storedPerS * METRICS_PER_MESSAGE),
      fmt(r.lost),
      fmt(r.drainS, 1),
      fmt(load.pubackMs.p50, 1),
      fmt(load.pubackMs.p99, 1),
      fmt(r.broker.cpuSPer100k, 1),
      fmt(r.ingestion.cpuSPer100k, 1),
      fmt(r.influxd.cpuSPer100k, 1),
      fmt(r.loadgen.cpuSPer100k, 1),
      fmt(r.broker.peakRssMB),
      fmt(r.ingestion.peakRssMB),
      sp ? `${sp.seqGaps}/${sp.rejects}/${sp.rebirthRequests}` : '—',
    ];
  };
  table(
    [
      'run',
      'sent msg/s',
      'stored msg/s',
      'metrics/s',
      'lost',
      'drain s',
      'PUBACK p50 ms',
      'p99 ms',
      'broker cpu-s/100k',
      'ingest cpu-s/100k',
      'influxd cpu-s/100k',
      'loadgen cpu-s/100k',
      'broker MB',
      'ingest MB',
      'gaps/rejects/rebirths',
    ],
    rows.flatMap((r) => [row('sparkplug', r.sparkplug), row('json', r.json)]),
  );
}

if (only.has('outage-memory')) {
  const run = await outageMemory(ROOT, {
    rate: values.rates ? rates[0]! : 2000,
    ...(values.profile ? { heapSnapshotDir: resolve(values.profile) } : {}),
    steadyS: quick ? 10 : 20,
    outageS: quick ? 10 : 30,
    afterS: quick ? 20 : 60,
    devices,
  });
  results['outageMemory'] = run;
  log(
    `Ingestion memory through a ${run.outageS} s InfluxDB outage at ${fmt(run.rate)} msg/s (${fmt(run.spooled)} points spooled, replayed in ${fmt(run.replayS, 1)} s)`,
  );
  table(
    ['moment', 't s', 'RSS MiB', 'heap used MiB', 'heap total MiB', 'external MiB'],
    (
      [
        ['before', run.before],
        ['peak', run.peak],
        ['60 s after replay', run.after],
      ] as const
    ).map(([label, s]) => [
      label,
      fmt(s.t),
      fmt(s.rssMB),
      fmt(s.heapUsedMB),
      fmt(s.heapTotalMB),
      fmt(s.externalMB),
    ]),
  );
}

const dir = join(ROOT, 'bench/results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
log(`results: ${file}`);
