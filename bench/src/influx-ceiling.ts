import { Agent, request } from 'node:http';
import { startInfluxd } from '@parkpulse/dev-services';
import { percentile } from './loadgen.js';

/** Points per write request. */
export const BATCH_POINTS = 5_000;
/** Devices (series) the points are spread over. */
export const DEVICES = 200;
const DATABASE = 'bench';

/**
 * One line-protocol batch of energy-meter samples with the six float fields of `benchPayload`:
 * point k belongs to device k mod `devices` and has timestamp `firstTs + k` (ms), so that no two
 * points ever share a timestamp (a second point with a series' timestamp would overwrite the first).
 * Tags are in key order, as InfluxDB stores them.
 */
export function lineProtocolBatch(firstTs: number, points: number, devices = DEVICES): string {
  const lines: string[] = [];
  for (let k = 0; k < points; k++) {
    const d = k % devices;
    const seq = firstTs + k;
    const p = 40 + (seq % 100) * 0.37;
    lines.push(
      `energy_meter,device=meter-${d},park=science-city,site=bench-${d % 4} ` +
        `active_power_kw=${p.toFixed(2)},energy_kwh=${(1000 + (seq % 100_000) * 0.01).toFixed(2)},` +
        `voltage_v=${(230 + (seq % 7) * 0.1).toFixed(1)},current_a=${(p * 4.35).toFixed(2)},` +
        `power_factor=0.96,frequency_hz=${(50 + (seq % 5) * 0.01).toFixed(2)} ${firstTs + k}`,
    );
  }
  return lines.join('\n');
}

interface WriteResponse {
  readonly status: number;
  readonly body: string;
  /** Request sent to response read, ms. */
  readonly ms: number;
}

/** POSTs `body` over the keep-alive `agent`; rejects on socket errors and after 60 s. */
function post(agent: Agent, url: URL, body: string): Promise<WriteResponse> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
      },
    );
    req.once('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`no answer from ${url.host} in 60 s`)));
    req.end(body);
  });
}

/** What the writers have done so far (shared: one event loop, no races). */
interface Tally {
  /** The first timestamp of the next batch (ms); unique over all writers. */
  nextTs: number;
  points: number;
  batches: number;
  failedBatches: number;
  readonly latencies: number[];
}

/** One writer: batch after batch until `deadline`, building the next while one is in flight. */
async function writer(agent: Agent, url: URL, tally: Tally, deadline: number): Promise<void> {
  const nextBatch = () => {
    const body = lineProtocolBatch(tally.nextTs, BATCH_POINTS);
    tally.nextTs += BATCH_POINTS;
    return body;
  };
  let body = nextBatch();
  while (performance.now() < deadline) {
    const pending = post(agent, url, body);
    await new Promise((r) => setImmediate(r)); // the request leaves before the next batch is built
    body = nextBatch();
    const res = await pending;
    tally.latencies.push(res.ms);
    if (res.status === 204) {
      tally.points += BATCH_POINTS;
      tally.batches++;
    } else if (res.status >= 400 && res.status < 500) {
      throw new Error(`influxd refused a batch: ${res.status} ${res.body}`); // our bug
    } else tally.failedBatches++; // overloaded (500 timeout): not accepted, not counted
  }
}

/** The raw InfluxDB write ceiling with `writers` concurrent writers. */
export interface InfluxCeilingResult {
  readonly writers: number;
  /** Points accepted (HTTP 204). */
  readonly points: number;
  /** Accepted points / elapsed seconds (first request to the last answer). */
  readonly pointsPerS: number;
  /** Batches accepted. */
  readonly batches: number;
  /** Median time for a batch of 5,000 points, ms. */
  readonly batchP50Ms: number;
  /** Batches answered with a 5xx (not accepted); 0 on a healthy run. */
  readonly failedBatches: number;
}

/**
 * The raw write ceiling of a fresh influxd 1.x (our dev-services start-up, so the same
 * configuration as the tests): `writers` concurrent keep-alive connections POST line-protocol
 * batches of 5,000 energy-meter points (6 float fields, 200 devices, ms precision) to
 * `/write?db=bench&precision=ms` for `durationMs`. The batches are built in this process, which
 * shares the machine's two cores with influxd.
 */
export async function influxCeiling(options: {
  writers: number;
  durationMs: number;
}): Promise<InfluxCeilingResult> {
  const influx = await startInfluxd();
  const agent = new Agent({ keepAlive: true, maxSockets: options.writers });
  try {
    const created = await fetch(`${influx.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: `CREATE DATABASE ${DATABASE}` }),
    });
    if (!created.ok)
      throw new Error(`CREATE DATABASE ${DATABASE}: ${created.status} ${await created.text()}`);
    const url = new URL(`${influx.url}/write?db=${DATABASE}&precision=ms`);
    const tally: Tally = {
      nextTs: Date.now() - 3_600_000,
      points: 0,
      batches: 0,
      failedBatches: 0,
      latencies: [],
    };
    const started = performance.now();
    const deadline = started + options.durationMs;
    await Promise.all(
      Array.from({ length: options.writers }, () => writer(agent, url, tally, deadline)),
    );
    const elapsedS = (performance.now() - started) / 1000;
    tally.latencies.sort((a, b) => a - b);
    return {
      writers: options.writers,
      points: tally.points,
      pointsPerS: tally.points / elapsedS,
      batches: tally.batches,
      batchP50Ms: percentile(tally.latencies, 0.5),
      failedBatches: tally.failedBatches,
    };
  } finally {
    agent.destroy();
    await influx.stop();
  }
}
