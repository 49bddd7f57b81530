import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ServiceProcess,
  devSecretsEnv,
  freePort,
  serviceCredentials,
  waitFor,
} from '@parkpulse/dev-services';
import { LINK_TOPIC, LinkSession } from '@parkpulse/ingest-link';
import { BenchClient, runLoad } from './loadgen.js';
import { ProcessMeter } from './procstat.js';

/** Every benchmark process listens on loopback only. */
export const LOOPBACK = '127.0.0.1';

/** Debian's Mosquitto (`apt-get install -y mosquitto`). */
export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';

/** In-flight QoS-1 publishes per publisher. */
export const PUBLISH_WINDOW = 10;

/** How long to wait for the last PUBACKs, then for the last deliveries, after publishing. */
const DRAIN_MS = 15_000;
/** Deliveries are over when none came for this long (or all acked messages arrived). */
const QUIET_MS = 2_000;

/** The subscriber's filter, and the probe device that proves the subscription is active. */
const FILTER = 'parks/#';
const PROBE_ID = `bench-relay-probe-${process.pid}`;
const PROBE_TOPIC = `parks/science-city/bench-probe/energy_meter/${PROBE_ID}/telemetry`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A broker process started for one benchmark. */
export interface BrokerHandle {
  readonly name: 'aedes' | 'mosquitto';
  readonly host: string;
  /** MQTT over TCP. */
  readonly port: number;
  readonly pid: number;
  /** `/metrics` of our broker (absent for Mosquitto). */
  readonly metricsUrl?: string;
  /** Stops the broker and waits for its exit. */
  stop(): Promise<void>;
}

/**
 * Starts our Aedes broker from its build (`apps/broker/dist/main.js`) on free loopback ports,
 * with the dev registry (the bench's clients log in as its devices and observer). The broker
 * holds every device publish until an ingestion instance acknowledges it: a null ingestion in
 * this process attaches to the ingest link and acknowledges every batch at once, so the broker
 * does all the work of capture and batching and nothing waits for storage.
 */
export async function startAedes(
  root: string,
  env: Record<string, string> = {},
): Promise<BrokerHandle> {
  const script = join(root, 'apps/broker/dist/main.js');
  if (!existsSync(script))
    throw new Error(
      `${script} is missing: build it first (npx nx run-many -t build -p @parkpulse/broker)`,
    );
  const port = await freePort();
  const httpPort = await freePort();
  const linkPort = await freePort();
  const service = new ServiceProcess(
    'bench-aedes',
    script,
    {
      BROKER_ID: 'bench',
      MQTT_HOST: LOOPBACK,
      MQTT_PORT: String(port),
      MQTT_WS_PORT: String(await freePort()),
      HTTP_PORT: String(httpPort),
      INGEST_LINK_PORT: String(linkPort),
      ...devSecretsEnv(root),
      ...env,
    },
    `http://${LOOPBACK}:${httpPort}/health`,
  );
  try {
    await service.start();
  } catch (error) {
    await service.stop('SIGKILL');
    throw error;
  }
  const pid = service.pid;
  if (pid === undefined) throw new Error('the Aedes broker has no pid');
  const nullIngestion = new LinkSession(
    {
      url: `mqtt://${LOOPBACK}:${linkPort}`,
      ...serviceCredentials('parkpulse-ingestion', 'bench-null'),
      keepaliveS: 30,
      subscriptions: [LINK_TOPIC],
    },
    { message: (batch) => batch.ack() },
  );
  await nullIngestion.start();
  return {
    name: 'aedes',
    host: LOOPBACK,
    port,
    pid,
    metricsUrl: `http://${LOOPBACK}:${httpPort}/metrics`,
    stop: async () => {
      await nullIngestion.stop();
      await service.stop();
    },
  };
}

/**
 * Mosquitto's configuration: one loopback listener, anonymous clients, defaults otherwise. Its
 * default queue limit (`max_queued_messages 1000` for QoS > 0, per client, beyond the 20 in
 * flight) drops messages for a subscriber that falls behind; the relay counts what is delivered,
 * so such drops show as a lower delivered rate (and a loss), not as an error.
 */
export function mosquittoConf(port: number): string {
  return [`listener ${port} ${LOOPBACK}`, 'allow_anonymous true', ''].join('\n');
}

/** Resolves true when something accepts TCP connections on loopback `port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Starts Mosquitto on a free loopback port with a temporary configuration file. */
export async function startMosquitto(): Promise<BrokerHandle> {
  if (!existsSync(MOSQUITTO_BIN))
    throw new Error(`${MOSQUITTO_BIN} not found: install it with apt-get install -y mosquitto`);
  const dir = await mkdtemp(join(tmpdir(), 'parkpulse-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, mosquittoConf(port));
  const child = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  // Drained (a full pipe would stall the broker), last 4 kB kept for errors.
  child.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4_000)));
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  let gone = false;
  const exited = new Promise<void>((resolve) => {
    const onGone = () => {
      gone = true;
      process.off('exit', orphanGuard);
      resolve();
    };
    child.once('exit', onGone);
    child.once('error', (error) => {
      log += `\n${error.message}`;
      onGone();
    });
  });
  const stop = async () => {
    if (!gone) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (gone) throw new Error(`mosquitto exited during start-up:\n${log}`);
      if (Date.now() > deadline) throw new Error(`mosquitto not listening on ${port} after 10 s`);
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  if (child.pid === undefined) throw new Error('mosquitto has no pid');
  return { name: 'mosquitto', host: LOOPBACK, port, pid: child.pid, stop };
}

/** What the subscriber has received (probe messages aside). */
interface Deliveries {
  count: number;
  /** Date.now() of the last delivery. */
  lastMs: number;
}

/**
 * Subscribes `subscriber` (connected) to `parks/#` at QoS 1, counting (and acking) every message,
 * and resolves once the subscription demonstrably works: a probe client's QoS-0 publishes reach it
 * (BenchClient does not surface the SUBACK).
 */
async function subscribeAndProbe(
  subscriber: BenchClient,
  broker: BrokerHandle,
): Promise<Deliveries> {
  const deliveries: Deliveries = { count: 0, lastMs: 0 };
  let probed = false;
  subscriber.subscribe(FILTER, 1, (topic) => {
    if (topic === PROBE_TOPIC) {
      probed = true;
      return;
    }
    deliveries.count++;
    deliveries.lastMs = Date.now();
  });
  const probe = new BenchClient(PROBE_ID, broker.host, broker.port);
  try {
    await probe.connect();
    await waitFor(
      `the ${FILTER} subscription on ${broker.name}`,
      () => {
        probe.publish(PROBE_TOPIC, 'probe', 0);
        return Promise.resolve(probed);
      },
      10_000,
      100,
    );
  } finally {
    probe.close();
  }
  return deliveries;
}

/** Waits until every acked message arrived, or none arrived for {@link QUIET_MS}; bounded. */
async function settle(deliveries: Deliveries, expected: number): Promise<void> {
  const deadline = performance.now() + DRAIN_MS;
  let seen = deliveries.count;
  let quietSince = performance.now();
  while (deliveries.count < expected && performance.now() < deadline) {
    if (deliveries.count !== seen) {
      seen = deliveries.count;
      quietSince = performance.now();
    } else if (performance.now() - quietSince > QUIET_MS) return;
    await sleep(100);
  }
}

/** One relay measurement: publishers → broker → one QoS-1 subscriber. */
export interface RelayResult {
  readonly broker: 'aedes' | 'mosquitto';
  readonly publishers: number;
  /** QoS-1 publishes written. */
  readonly sent: number;
  /** Publishes the broker PUBACKed. */
  readonly acked: number;
  /** Messages the subscriber received. */
  readonly delivered: number;
  /** Publishes per second while publishing. */
  readonly sentPerS: number;
  /** Deliveries per second, from the first publish to the last delivery. */
  readonly deliveredPerS: number;
  /** 100 × (1 − delivered / acked): acked messages that never reached the subscriber, %. */
  readonly lossPct: number;
  /** Broker CPU seconds (user + system) from the first connection to the last delivery. */
  readonly brokerCpuS: number;
  /** Peak broker RSS over the same window (sampled every 200 ms), MiB. */
  readonly brokerPeakRssMB: number;
}

export interface RelayOptions {
  readonly broker: 'aedes' | 'mosquitto';
  /** Publishing connections (the bench uses 20 and 500). */
  readonly publishers: number;
  /** How long the publishers publish, ms (15 s in the bench). */
  readonly durationMs: number;
  /** Repository root, for `apps/broker/dist/main.js`. */
  readonly root: string;
}

/**
 * "Broker alone" relay throughput: one QoS-1 subscriber on `parks/#` and `publishers` connections
 * publishing 6-field energy-meter samples at QoS 1 flat-out (10 in flight each) for `durationMs`,
 * the same for our Aedes broker and Debian's Mosquitto. The publishers and the subscriber run in
 * this process, so the load generator shares the machine's two cores with the broker: the figures
 * are what one box relays end to end, not the broker's ceiling on a core of its own.
 */
export async function relayBenchmark(options: RelayOptions): Promise<RelayResult> {
  const broker =
    options.broker === 'aedes' ? await startAedes(options.root) : await startMosquitto();
  const login = serviceCredentials('parkpulse-observer', `relay-${process.pid}`);
  const subscriber = new BenchClient(login.clientId, broker.host, broker.port, login);
  const meter = new ProcessMeter(broker.pid);
  try {
    await subscriber.connect();
    const deliveries = await subscribeAndProbe(subscriber, broker);
    meter.start();
    const load = await runLoad({
      host: broker.host,
      port: broker.port,
      devices: options.publishers,
      rate: 0,
      durationMs: options.durationMs,
      window: PUBLISH_WINDOW,
      prefix: `relay-${options.broker}-${options.publishers}`,
      drainMs: DRAIN_MS,
    });
    await settle(deliveries, load.acked);
    const { cpuS, peakRssBytes } = meter.stop();
    const deliveringS = Math.max(0.001, (deliveries.lastMs - load.firstPublishMs) / 1000);
    return {
      broker: options.broker,
      publishers: options.publishers,
      sent: load.sent,
      acked: load.acked,
      delivered: deliveries.count,
      sentPerS: load.sentPerS,
      deliveredPerS: deliveries.count / deliveringS,
      lossPct: load.acked > 0 ? 100 * (1 - deliveries.count / load.acked) : 0,
      brokerCpuS: cpuS,
      brokerPeakRssMB: peakRssBytes / 2 ** 20,
    };
  } finally {
    meter.stop();
    subscriber.close();
    await broker.stop();
  }
}
