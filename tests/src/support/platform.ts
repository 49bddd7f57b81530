import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, startInfluxd, waitFor, type InfluxdHandle } from '@parkpulse/dev-services';
import { DEFAULT_INFLUX_CONFIG, InfluxStore, quoteIdent } from '@parkpulse/influx';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const BROKER_MAIN = join(ROOT, 'apps/broker/dist/main.js');
export const INGESTION_MAIN = join(ROOT, 'apps/ingestion/dist/main.js');
const LOG_DIR = mkdtempSync(join(tmpdir(), 'parkpulse-e2e-'));

// Whatever happens to the test process (a hook timeout, Ctrl-C), its services go with it.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A platform process (broker or ingestion) run from its build, as in production. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  readonly logFile: string;

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: Record<string, string>,
    readonly healthUrl: string,
  ) {
    this.logFile = join(LOG_DIR, `${name}.log`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and waits until its health endpoint answers 200. */
  async start(): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [this.script], {
      env: { ...process.env, NO_COLOR: '1', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    let gone = false;
    this.exited = new Promise((r) => child.once('exit', (code) => ((gone = true), r(code))));
    await waitFor(
      `${this.name} healthy at ${this.healthUrl}`,
      async () => {
        if (gone) throw new Error(`${this.name} exited during start-up:\n${this.tail()}`);
        return (await fetch(this.healthUrl)).status === 200;
      },
      30_000,
    );
  }

  /** Sends a signal and waits for the exit (SIGKILL = the hard crash of a fault test). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null)
      return this.child?.exitCode ?? null;
    this.child.kill(signal);
    return this.exited;
  }

  tail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

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
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const influx = await startInfluxd();
  const [mqttPort, wsPort, brokerHttp, ingestionHttp] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const broker = new ServiceProcess(
    'broker',
    BROKER_MAIN,
    {
      BROKER_ID: 'e2e',
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      MQTT_WS_PORT: String(wsPort),
      HTTP_PORT: String(brokerHttp),
      ...options.brokerEnv,
    },
    `http://127.0.0.1:${brokerHttp}/health`,
  );
  const ingestion = new ServiceProcess(
    'ingestion',
    INGESTION_MAIN,
    {
      MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
      INFLUX_URL: influx.url,
      INFLUX_API: 'v1',
      INFLUX_DATABASE: 'telemetry',
      HTTP_PORT: String(ingestionHttp),
      ...options.ingestionEnv,
    },
    `http://127.0.0.1:${ingestionHttp}/health`,
  );
  const store = new InfluxStore({
    ...DEFAULT_INFLUX_CONFIG,
    url: influx.url,
    database: 'telemetry',
  });
  try {
    await broker.start();
    await ingestion.start();
  } catch (error) {
    await ingestion.stop('SIGKILL');
    await broker.stop('SIGKILL');
    await influx.stop();
    throw error;
  }

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
    ingestionHttp: `http://127.0.0.1:${ingestionHttp}`,
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
      await ingestion.stop();
      await broker.stop();
      store.close();
      await influx.stop();
    },
  };
}

/** Reads the ingestion's Prometheus text and returns one sample's value (0 when absent). */
export async function metricValue(baseUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : 0;
}
