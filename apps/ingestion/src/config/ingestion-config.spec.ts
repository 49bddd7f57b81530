import { describe, expect, it } from 'vitest';
import { loadIngestionConfig } from './ingestion-config.js';

describe('INFLUX_GZIP_THRESHOLD', () => {
  const threshold = (env: Record<string, string>) => loadIngestionConfig(env).influx.gzipThreshold;

  it('never gzips for an InfluxDB on this host unless asked to', () => {
    expect(threshold({ INFLUX_URL: 'http://127.0.0.1:8086' })).toBe(Number.POSITIVE_INFINITY);
    expect(threshold({ INFLUX_URL: 'http://localhost:8086' })).toBe(Number.POSITIVE_INFINITY);
    expect(threshold({ INFLUX_URL: 'http://[::1]:8086' })).toBe(Number.POSITIVE_INFINITY);
    expect(threshold({ INFLUX_URL: 'http://127.0.0.1:8086', INFLUX_GZIP_THRESHOLD: '1024' })).toBe(
      1024,
    );
  });

  it('gzips bodies over 64 KiB for a remote InfluxDB; 0 means never', () => {
    expect(threshold({ INFLUX_URL: 'http://influxdb:8086' })).toBe(65536);
    expect(threshold({ INFLUX_URL: 'http://influxdb:8086', INFLUX_GZIP_THRESHOLD: '0' })).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});
