import { Logger } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { loadIngestionConfig } from '../config/ingestion-config.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import type { InfluxStoreProvider } from './influx-store.provider.js';
import { InfluxWriter } from './influx-writer.service.js';

Logger.overrideLogger(false);

describe('InfluxWriter', () => {
  it('counts a write unanswered within INFLUX_WRITE_DEADLINE_MS as failing, from its start', async () => {
    const config = loadIngestionConfig({ INFLUX_WRITE_DEADLINE_MS: '100', SPOOL_AFTER_MS: '300' });
    // A hung InfluxDB: the request is accepted and never answered.
    const hung = { writeLines: () => new Promise<void>(() => undefined) };
    const writer = new InfluxWriter(
      config,
      hung as unknown as InfluxStoreProvider,
      new IngestMetrics(),
    );
    const before = Date.now();
    const outcome = await writer.write([{ lines: ['m v=1 1'], topic: 't' }], () => false);
    const after = Date.now();
    expect(outcome).toEqual({ kind: 'retry' });
    // Failing since the request began, not since the deadline passed.
    expect(writer.failingSince).toBeGreaterThanOrEqual(before);
    expect(writer.failingSince).toBeLessThan(after - 250); // given up after SPOOL_AFTER_MS
  });

  it('takes a slow answer after the deadline: failing meanwhile, healthy once it comes', async () => {
    const config = loadIngestionConfig({ INFLUX_WRITE_DEADLINE_MS: '100', SPOOL_AFTER_MS: '5000' });
    let failingMeanwhile: number | undefined;
    const slow = {
      writeLines: () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            failingMeanwhile = writer.failingSince;
            resolve();
          }, 300),
        ),
    };
    const writer = new InfluxWriter(
      config,
      slow as unknown as InfluxStoreProvider,
      new IngestMetrics(),
    );
    const outcome = await writer.write([{ lines: ['m v=1 1'], topic: 't' }], () => false);
    expect(outcome).toEqual({ kind: 'stored', rejected: [] });
    expect(failingMeanwhile).toBeDefined();
    expect(writer.failingSince).toBeUndefined();
  });
});
