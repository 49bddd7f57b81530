import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devSecretsEnv, serviceCredentials } from './credentials.js';
import { freePort } from './ports.js';
import { ServiceProcess } from './service.js';

export interface PipelineServicesOptions {
  /** Repository root (the built apps are under apps/<name>/dist/main.js). */
  readonly root: string;
  readonly influxUrl: string;
  readonly brokerId: string;
  readonly brokerEnv?: Record<string, string>;
  readonly ingestionEnv?: Record<string, string>;
  /** Write CPU profiles (`--cpu-prof`) of both services under this directory. */
  readonly profileDir?: string;
}

export interface PipelineServices {
  readonly broker: ServiceProcess;
  readonly ingestion: ServiceProcess;
  readonly mqttPort: number;
  /** The broker's ingest link (more ingestion instances can attach here). */
  readonly linkPort: number;
  /** Base URL of the ingestion's /health and /metrics. */
  readonly ingestionHttp: string;
  /** Stops the ingestion, then the broker (SIGTERM: graceful). */
  stop(): Promise<void>;
}

const profiling = (dir: string | undefined, name: string) =>
  dir ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, name)}`] : [];

/**
 * The ingestion runs with a larger young generation, as `npm start` and docker-compose start it:
 * its short-lived per-message objects then die young (docs/performance.md).
 */
export const INGESTION_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/**
 * The built broker and ingestion on free loopback ports, the ingestion writing to `influxUrl`
 * (database `telemetry`, v1 API), with the dev registry and secrets (see credentials.ts), each started and waited for until healthy. If either fails to
 * start, both are killed and the error is thrown (wrap in `retryOnPortClash` for fresh ports).
 */
export async function startPipelineServices(o: PipelineServicesOptions): Promise<PipelineServices> {
  const [mqttPort, wsPort, brokerHttp, ingestionHttp, linkPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const broker = new ServiceProcess(
    'broker',
    join(o.root, 'apps/broker/dist/main.js'),
    {
      BROKER_ID: o.brokerId,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      MQTT_WS_PORT: String(wsPort),
      HTTP_PORT: String(brokerHttp),
      INGEST_LINK_PORT: String(linkPort),
      ...devSecretsEnv(o.root),
      ...o.brokerEnv,
    },
    `http://127.0.0.1:${brokerHttp}/health`,
    { execArgv: profiling(o.profileDir, 'broker') },
  );
  const ingest = serviceCredentials('parkpulse-ingestion');
  // A disk spool of this pipeline's own, kept across restarts of its ingestion, removed on stop().
  const spoolDir = mkdtempSync(join(tmpdir(), 'parkpulse-spool-'));
  const ingestion = new ServiceProcess(
    'ingestion',
    join(o.root, 'apps/ingestion/dist/main.js'),
    {
      // A TLS-only broker speaks TLS on its ingest link too.
      INGEST_LINK_URL: `${o.brokerEnv?.MQTT_PLAINTEXT === 'false' ? 'mqtts' : 'mqtt'}://127.0.0.1:${linkPort}`,
      INFLUX_URL: o.influxUrl,
      INFLUX_API: 'v1',
      INFLUX_DATABASE: 'telemetry',
      HTTP_PORT: String(ingestionHttp),
      SPOOL_DIR: spoolDir,
      MQTT_USERNAME: ingest.username,
      MQTT_PASSWORD: ingest.password,
      ...o.ingestionEnv,
    },
    `http://127.0.0.1:${ingestionHttp}/health`,
    { execArgv: [...INGESTION_NODE_FLAGS, ...profiling(o.profileDir, 'ingestion')] },
  );
  try {
    await broker.start();
    await ingestion.start();
  } catch (error) {
    await ingestion.stop('SIGKILL');
    await broker.stop('SIGKILL');
    rmSync(spoolDir, { recursive: true, force: true });
    throw error;
  }
  return {
    broker,
    ingestion,
    mqttPort,
    linkPort,
    ingestionHttp: `http://127.0.0.1:${ingestionHttp}`,
    async stop() {
      await ingestion.stop();
      await broker.stop();
      rmSync(spoolDir, { recursive: true, force: true });
    },
  };
}

/** One sample of a service's Prometheus text (`labels` as written, e.g. `{reason="x"}`); 0 when absent. */
export async function metricValue(baseUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : 0;
}
