import { join, resolve } from 'node:path';
import {
  ServiceProcess,
  metricValue,
  retryOnPortClash,
  startInfluxd,
  startPipelineServices,
  waitFor,
  type InfluxdHandle,
  type PipelineServices,
} from '@parkpulse/dev-services';

export { ServiceProcess, metricValue };
import { DEFAULT_INFLUX_CONFIG, InfluxStore, quoteIdent } from '@parkpulse/influx';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const BROKER_MAIN = join(ROOT, 'apps/broker/dist/main.js');
export const INGESTION_MAIN = join(ROOT, 'apps/ingestion/dist/main.js');

export interface Platform {
  readonly influx: InfluxdHandle;
  readonly store: InfluxStore;
  readonly mqttUrl: string;
  readonly mqttPort: number;
  readonly broker: ServiceProcess;
  readonly ingestion: ServiceProcess;
  readonly ingestionHttp: string;
  /** COUNT of one field over a measurement, optionally filtered (InfluxQL WHERE clause). */
  count(measurement: string, field: string, where?: string): Promise<number>;
  /** SIGTERM to the broker, then a new broker process on the same ports. */
  restartBroker(): Promise<void>;
  /** Polls `count` until it equals `expected` (or fails after `timeoutMs` with the last value). */
  waitForCount(
    measurement: string,
    field: string,
    expected: number,
    where?: string,
    timeoutMs?: number,
  ): Promise<void>;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  readonly ingestionEnv?: Record<string, string>;
  readonly brokerEnv?: Record<string, string>;
}

/** A fresh influxd, the broker and the ingestion, all real processes on loopback. */
export function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  return retryOnPortClash(() => startPlatformOnce(options));
}

async function startPlatformOnce(options: PlatformOptions): Promise<Platform> {
  const influx = await startInfluxd();
  let services: PipelineServices;
  try {
    services = await startPipelineServices({
      root: ROOT,
      influxUrl: influx.url,
      brokerId: 'e2e',
      ...(options.brokerEnv ? { brokerEnv: options.brokerEnv } : {}),
      ...(options.ingestionEnv ? { ingestionEnv: options.ingestionEnv } : {}),
    });
  } catch (error) {
    await influx.stop();
    throw error;
  }
  const { broker, ingestion, mqttPort } = services;
  const store = new InfluxStore({
    ...DEFAULT_INFLUX_CONFIG,
    url: influx.url,
    database: 'telemetry',
  });

  async function count(measurement: string, field: string, where?: string): Promise<number> {
    const q = `SELECT COUNT(${quoteIdent(field)}) FROM ${quoteIdent(measurement)}${where ? ` WHERE ${where}` : ''}`;
    const [series = []] = await store.query(q);
    return Number(series[0]?.values[0]?.[1] ?? 0);
  }

  return {
    influx,
    store,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    mqttPort,
    broker,
    ingestion,
    ingestionHttp: services.ingestionHttp,
    count,
    async restartBroker() {
      await broker.stop('SIGTERM');
      await broker.start();
    },
    async waitForCount(measurement, field, expected, where, timeoutMs = 60_000) {
      let last = -1;
      try {
        await waitFor(
          `${expected} ${measurement}.${field}`,
          async () => (last = await count(measurement, field, where)) === expected,
          timeoutMs,
          250,
        );
      } catch {
        throw new Error(
          `expected ${expected} points of ${measurement}.${field}${where ? ` WHERE ${where}` : ''}, found ${last}\ningestion log:\n${ingestion.tail()}`,
        );
      }
    },
    async stop() {
      await services.stop();
      store.close();
      await influx.stop();
    },
  };
}
