import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { loadIngestionConfig } from '../config/ingestion-config.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import { SpoolService } from './spool.service.js';

Logger.overrideLogger(false);
const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('SpoolService', () => {
  it('uses a small budget to the end: a large batch is split into records', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parkpulse-spool-svc-'));
    dirs.push(dir);
    const budget = 2 * 1024 * 1024;
    const config = loadIngestionConfig({ SPOOL_DIR: dir, SPOOL_MAX_BYTES: String(budget) });
    const metrics = new IngestMetrics();
    const spool = new SpoolService(config, metrics);
    await spool.onModuleInit();
    // 5,000 points of ~200 bytes: about 1 MiB per batch, as BATCH_MAX_POINTS makes them.
    const batch = Array.from({ length: 50 }, (_, g) => ({
      topic: `parks/science-city/f1/cnc_machine/d${g}/telemetry`,
      lines: Array.from({ length: 100 }, (_, i) =>
        `cnc_machine,device=d${g},park=science-city,site=f1 spindle_rpm=${i},spindle_load_pct=42.5,state="running",seq=${i} ${1_764_000_000_000 + i}`.padEnd(
          200,
          ' ',
        ),
      ),
    }));
    let appended = 0;
    let last: string;
    while ((last = await spool.append(batch)) === 'appended') appended++;
    expect(last).toBe('full');
    expect(spool.isFull).toBe(true);
    // The whole batches that fit, then the records of the last one that fit: past 90 %.
    expect(appended).toBeGreaterThanOrEqual(1);
    const bytes = await metrics.registry.getSingleMetric('parkpulse_ingest_spool_bytes')?.get();
    expect(bytes?.values[0]?.value).toBeGreaterThan(0.9 * budget);
    await spool.onApplicationShutdown();
  });
});
