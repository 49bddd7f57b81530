import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricValue as metric } from '@parkpulse/dev-services';
import { runLoad } from './loadgen.js';
import { startPipeline } from './pipeline.js';

/** The ingestion's memory at one moment, from its /metrics (MiB). */
export interface MemorySample {
  /** Seconds since the load started. */
  readonly t: number;
  readonly rssMB: number;
  readonly heapUsedMB: number;
  readonly heapTotalMB: number;
  readonly externalMB: number;
}

export interface OutageMemoryRun {
  readonly rate: number;
  readonly outageS: number;
  /** Points the spool took and gave back to InfluxDB. */
  readonly spooled: number;
  readonly replayed: number;
  /** Seconds from InfluxDB's return until the spool was replayed. */
  readonly replayS: number;
  /** At the end of the steady phase, the highest seen (each figure its own maximum), 60 s after the replay. */
  readonly before: MemorySample;
  readonly peak: MemorySample;
  readonly after: MemorySample;
  readonly samples: readonly MemorySample[];
}

const MB = 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Memory through an InfluxDB outage: a steady load, then influxd killed for `outageS` (the spool
 * takes the writes), then started again (the spool is replayed beside the live traffic), and the
 * load goes on for 60 s after the replay. The ingestion's RSS and V8 heap are read from its
 * /metrics every second; heapUsed against RSS tells memory our objects hold from memory the
 * process keeps after they are gone.
 */
export async function outageMemory(
  root: string,
  o: {
    rate: number;
    steadyS: number;
    outageS: number;
    afterS: number;
    devices: number;
    /** Where the ingestion writes a heap snapshot at the "after" moment (SIGUSR2). */
    heapSnapshotDir?: string;
  },
): Promise<OutageMemoryRun> {
  const spoolDir = await mkdtemp(join(tmpdir(), 'parkpulse-bench-spool-'));
  const pipeline = await startPipeline(root, {
    ingestion: {
      SPOOL_DIR: spoolDir,
      SPOOL_MAX_BYTES: String(2 * 1024 ** 3),
      ...(o.heapSnapshotDir
        ? {
            NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${o.heapSnapshotDir}`,
          }
        : {}),
    },
  });
  const http = pipeline.ingestionHttp;
  const samples: MemorySample[] = [];
  const started = Date.now();
  const read = async (): Promise<MemorySample> => ({
    t: (Date.now() - started) / 1000,
    rssMB: (await metric(http, 'parkpulse_ingest_process_resident_memory_bytes')) / MB,
    heapUsedMB: (await metric(http, 'parkpulse_ingest_nodejs_heap_size_used_bytes')) / MB,
    heapTotalMB: (await metric(http, 'parkpulse_ingest_nodejs_heap_size_total_bytes')) / MB,
    externalMB: (await metric(http, 'parkpulse_ingest_nodejs_external_memory_bytes')) / MB,
  });
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        samples.push(await read());
      } catch {
        // a missed second
      }
      await sleep(1000);
    }
  })();
  try {
    // One run of the same devices throughout (new device ids would grow the per-device state),
    // long enough for the replay and the minute after it.
    const load = runLoad({
      host: '127.0.0.1',
      port: pipeline.mqttPort,
      devices: o.devices,
      rate: o.rate,
      durationMs: (o.steadyS + o.outageS + o.afterS + 20) * 1000,
      window: 20,
      prefix: 'bench-outage',
      drainMs: 120_000,
    });
    await sleep(o.steadyS * 1000);
    const before = await read();
    await pipeline.influx.halt('SIGKILL');
    await sleep(o.outageS * 1000);
    await pipeline.influx.restart();
    const back = Date.now();
    // Replayed: the spool's points all written back.
    const spooledPoints = () => metric(http, 'parkpulse_ingest_spool_points_spooled_total');
    const replayedPoints = () => metric(http, 'parkpulse_ingest_spool_points_replayed_total');
    while ((await replayedPoints()) < (await spooledPoints()) && Date.now() - back < 600_000)
      await sleep(500);
    const replayS = (Date.now() - back) / 1000;
    await sleep(o.afterS * 1000);
    const after = await read();
    if (o.heapSnapshotDir && pipeline.ingestion.pid) {
      process.kill(pipeline.ingestion.pid, 'SIGUSR2');
      await sleep(20_000);
    }
    await load;
    const during = samples.filter((s) => s.t >= before.t);
    const max = (k: keyof MemorySample) => Math.max(...during.map((s) => s[k]));
    return {
      rate: o.rate,
      outageS: o.outageS,
      spooled: await spooledPoints(),
      replayed: await replayedPoints(),
      replayS,
      before,
      peak: {
        t: during.find((s) => s.rssMB === max('rssMB'))?.t ?? 0,
        rssMB: max('rssMB'),
        heapUsedMB: max('heapUsedMB'),
        heapTotalMB: max('heapTotalMB'),
        externalMB: max('externalMB'),
      },
      after,
      samples,
    };
  } finally {
    sampling = false;
    await sampler;
    await pipeline.stop();
    await rm(spoolDir, { recursive: true, force: true });
  }
}
