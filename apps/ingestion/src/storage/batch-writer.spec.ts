import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Point } from '@influxdata/influxdb-client';
import { InfluxWriteError } from '@parkpulse/influx';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadIngestionConfig } from '../config/ingestion-config.js';
import type { DeadLetterPublisher } from '../dead-letters/dead-letter.publisher.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import { SpoolService } from '../spool/spool.service.js';
import { BatchWriter } from './batch-writer.service.js';
import type { InfluxStoreProvider } from './influx-store.provider.js';
import { InfluxWriter } from './influx-writer.service.js';
import { SpoolReplayer } from './spool-replayer.service.js';

/** An InfluxDB stand-in: up, down (connection refused) or refusing lines that contain a marker. */
class FakeInflux {
  down = false;
  readonly lines: string[] = [];
  writeLines(lines: readonly string[]): Promise<void> {
    if (this.down) return Promise.reject(new InfluxWriteError('connect ECONNREFUSED', true));
    if (lines.some((l) => l.includes('refuse')))
      return Promise.reject(new InfluxWriteError('InfluxDB 400: field type conflict', false, 400));
    this.lines.push(...lines);
    return Promise.resolve();
  }
  ensureDatabase(): Promise<void> {
    return Promise.resolve();
  }
}

interface Rig {
  readonly influx: FakeInflux;
  readonly writer: BatchWriter;
  readonly spool: SpoolService;
  readonly metrics: IngestMetrics;
  readonly deadLetters: { publish: ReturnType<typeof vi.fn> };
  readonly dir: string;
  submit(i: number, field?: string): { acked: boolean };
}

// The services log state changes (spooling, recovered); the assertions say what matters here.
Logger.overrideLogger(false);

const rigs: { writer: BatchWriter; replayer: SpoolReplayer; spool: SpoolService; dir: string }[] =
  [];

async function rig(env: Record<string, string> = {}): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'parkpulse-writer-'));
  const config = loadIngestionConfig({
    SPOOL_DIR: dir,
    SPOOL_AFTER_MS: '100',
    BATCH_FLUSH_MS: '5',
    BATCH_MAX_POINTS: '10',
    ...env,
  });
  const metrics = new IngestMetrics();
  const influx = new FakeInflux();
  const spool = new SpoolService(config, metrics);
  await spool.onModuleInit();
  const deadLetters = { publish: vi.fn() };
  const writer$ = new InfluxWriter(config, influx as unknown as InfluxStoreProvider, metrics);
  const dl = deadLetters as unknown as DeadLetterPublisher;
  const writer = new BatchWriter(config, writer$, spool, dl, metrics);
  const replayer = new SpoolReplayer(config, spool, writer$, dl, metrics);
  replayer.onApplicationBootstrap();
  rigs.push({ writer, replayer, spool, dir });
  return {
    influx,
    writer,
    spool,
    metrics,
    deadLetters,
    dir,
    submit(i, field = 'v') {
      const state = { acked: false };
      writer.submit({
        points: [
          new Point('m')
            .tag('device', 'd')
            .floatField(field, i)
            .timestamp(1000 + i),
        ],
        stored: () => (state.acked = true),
        topic: `parks/t/${i}`,
        receivedAt: 5,
        payload: Buffer.from(`payload ${i}`),
      });
      return state;
    },
  };
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    r.writer.close();
    await r.replayer.beforeApplicationShutdown();
    await r.spool.onApplicationShutdown();
    await rm(r.dir, { recursive: true, force: true });
  }
});

const segments = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.spool'));

describe('BatchWriter with the disk spool', () => {
  it('writes to InfluxDB while it is up, and leaves the spool alone', async () => {
    const r = await rig();
    const sent = Array.from({ length: 25 }, (_, i) => r.submit(i));
    await vi.waitFor(() => expect(sent.every((s) => s.acked)).toBe(true));
    expect(r.influx.lines).toHaveLength(25);
    expect(r.metrics.totals.pointsSpooled).toBe(0);
    expect(await segments(r.dir)).toEqual([]);
  });

  it('runs every recorded, then the before-ack hooks once, then every stored, per write', async () => {
    const r = await rig({ BATCH_MAX_POINTS: '3' });
    const calls: string[] = [];
    r.writer.beforeAcks(() => calls.push('hook'));
    const point = (i: number) => new Point('m').tag('device', 'd').floatField('v', i).timestamp(i);
    for (let i = 0; i < 5; i++)
      r.writer.submit({
        points: [point(i)],
        recorded: () => calls.push(`recorded ${i}`),
        stored: () => calls.push(`stored ${i}`),
        topic: `parks/t/${i}`,
      });
    await vi.waitFor(() => expect(calls.filter((c) => c.startsWith('stored'))).toHaveLength(5));
    // Two writes (3 + 2 points): one hook each, between the two phases of its own messages.
    expect(calls).toEqual([
      ...['recorded 0', 'recorded 1', 'recorded 2', 'hook', 'stored 0', 'stored 1', 'stored 2'],
      ...['recorded 3', 'recorded 4', 'hook', 'stored 3', 'stored 4'],
    ]);
  });

  it('spools once InfluxDB has been failing for SPOOL_AFTER_MS, then replays everything once it is back', async () => {
    const r = await rig({ SPOOL_AFTER_MS: '1000' });
    r.influx.down = true;
    const early = r.submit(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(early.acked).toBe(false); // not before SPOOL_AFTER_MS: the broker keeps it meanwhile
    await vi.waitFor(() => expect(early.acked).toBe(true), { timeout: 3000 });
    const later = Array.from({ length: 30 }, (_, i) => r.submit(100 + i));
    await vi.waitFor(() => expect(later.every((s) => s.acked)).toBe(true));
    expect(r.influx.lines).toEqual([]);
    expect(r.metrics.totals.pointsSpooled).toBe(31);
    expect(r.metrics.spoolBytesNow).toBeGreaterThan(0);

    r.influx.down = false;
    await vi.waitFor(() => expect(r.metrics.spoolBytesNow).toBe(0), { timeout: 10_000 });
    expect(new Set(r.influx.lines).size).toBe(31);
    expect(r.metrics.totals.pointsReplayed).toBe(31);
    expect(await segments(r.dir)).toEqual([]);
    // InfluxDB is back: new batches go to it directly
    const after = r.submit(999);
    await vi.waitFor(() => expect(after.acked).toBe(true));
    expect(r.influx.lines.at(-1)).toContain('v=999');
    expect(r.metrics.totals.pointsSpooled).toBe(31);
  });

  it('a full spool acknowledges nothing more until InfluxDB is back (back-pressure, no drop)', async () => {
    // Batches of 2 points (a record of about 170 bytes): two fit.
    const r = await rig({ SPOOL_MAX_BYTES: '400', SPOOL_AFTER_MS: '0', BATCH_MAX_POINTS: '2' });
    r.influx.down = true;
    const sent = Array.from({ length: 20 }, (_, i) => r.submit(i));
    await vi.waitFor(() => expect(r.spool.isFull).toBe(true), { timeout: 3000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const acked = sent.filter((s) => s.acked).length;
    expect(acked).toBeGreaterThan(0);
    expect(acked).toBeLessThan(20);
    expect(r.metrics.spoolBytesNow).toBeLessThanOrEqual(400);
    r.influx.down = false;
    await vi.waitFor(() => expect(sent.every((s) => s.acked)).toBe(true), { timeout: 15_000 });
    await vi.waitFor(() => expect(new Set(r.influx.lines).size).toBe(20), { timeout: 10_000 });
  });

  it('on shutdown, a batch InfluxDB fails goes to the spool at once', async () => {
    const r = await rig({ SPOOL_AFTER_MS: '600000' });
    r.influx.down = true;
    const s = r.submit(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(s.acked).toBe(false);
    await r.writer.drain();
    expect(s.acked).toBe(true);
    expect(r.metrics.totals.pointsSpooled).toBe(1);
  });

  it('without a spool (SPOOL_MAX_BYTES=0) it waits for InfluxDB, acknowledging nothing', async () => {
    const r = await rig({ SPOOL_MAX_BYTES: '0', SPOOL_AFTER_MS: '0' });
    r.influx.down = true;
    const s = r.submit(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(s.acked).toBe(false);
    r.influx.down = false;
    await vi.waitFor(() => expect(s.acked).toBe(true), { timeout: 5000 });
    expect(await segments(r.dir)).toEqual([]);
  });

  it('a message InfluxDB refuses becomes a dead letter, published after its neighbours are stored', async () => {
    const r = await rig();
    const good = r.submit(1);
    const bad = r.submit(2, 'refuse');
    await vi.waitFor(() => expect(good.acked && bad.acked).toBe(true));
    expect(
      r.influx.lines.some((l) =>
        l.startsWith('ingest_reject,park=unknown,reason=storage_rejected'),
      ),
    ).toBe(true);
    expect(r.deadLetters.publish).toHaveBeenCalledTimes(1);
    expect(r.deadLetters.publish).toHaveBeenCalledWith({
      reason: 'storage_rejected',
      detail: 'InfluxDB 400: field type conflict',
      topic: 'parks/t/2',
      receivedAt: 5,
      payload: Buffer.from('payload 2'),
    });
  });
});
