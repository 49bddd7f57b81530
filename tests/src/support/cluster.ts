import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  INGESTION_NODE_FLAGS,
  ServiceProcess,
  deviceCredentials,
  devSecretsEnv,
  freePort,
  serviceCredentials,
} from '@parkpulse/dev-services';
import type { InfluxStore } from '@parkpulse/influx';
import mqtt, { type MqttClient } from 'mqtt';
import { BROKER_MAIN, INGESTION_MAIN, ROOT } from './platform.js';

/**
 * Processes of the platform one by one — several brokers, several ingestion instances — for the
 * tests of the delivery guarantee under crashes and scale-out (startPlatform runs one of each).
 */
export interface BrokerNode {
  readonly process: ServiceProcess;
  readonly mqttPort: number;
  readonly linkPort: number;
  readonly httpPort: number;
}

export async function brokerNode(
  id: string,
  env: Record<string, string> = {},
): Promise<BrokerNode> {
  const [mqttPort, wsPort, httpPort, linkPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const process = new ServiceProcess(
    `broker-${id}`,
    BROKER_MAIN,
    {
      BROKER_ID: id,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      MQTT_WS_PORT: String(wsPort),
      HTTP_PORT: String(httpPort),
      INGEST_LINK_PORT: String(linkPort),
      STATS_INTERVAL_MS: '0',
      // The fleets here publish faster than a field device may by default.
      PUBLISH_RATE_LIMIT: '0',
      ...devSecretsEnv(ROOT),
      ...env,
    },
    `http://127.0.0.1:${httpPort}/health`,
  );
  await process.start();
  return { process, mqttPort, linkPort, httpPort };
}

export interface IngestionNode {
  readonly process: ServiceProcess;
  readonly httpPort: number;
  /** Removes its spool directory (after stop). */
  cleanUp(): void;
}

export async function ingestionNode(
  instance: string,
  linkPort: number,
  influxUrl: string,
  database = 'telemetry',
  env: Record<string, string> = {},
): Promise<IngestionNode> {
  const httpPort = await freePort();
  const spoolDir = mkdtempSync(join(tmpdir(), 'parkpulse-spool-'));
  const login = serviceCredentials('parkpulse-ingestion');
  const process = new ServiceProcess(
    `ingestion-${instance}`,
    INGESTION_MAIN,
    {
      INSTANCE_ID: instance,
      INGEST_LINK_URL: `mqtt://127.0.0.1:${linkPort}`,
      MQTT_USERNAME: login.username,
      MQTT_PASSWORD: login.password,
      INFLUX_URL: influxUrl,
      INFLUX_API: 'v1',
      INFLUX_DATABASE: database,
      HTTP_PORT: String(httpPort),
      SPOOL_DIR: spoolDir,
      PLATFORM_STATS_INTERVAL_MS: '0',
      ...env,
    },
    `http://127.0.0.1:${httpPort}/health`,
    { execArgv: [...INGESTION_NODE_FLAGS] },
  );
  await process.start();
  return { process, httpPort, cleanUp: () => rmSync(spoolDir, { recursive: true, force: true }) };
}

export interface DurableFleetOptions {
  /** Broker URLs; device i connects to urls[i % urls.length]. */
  readonly urls: readonly string[];
  readonly prefix: string;
  readonly site: string;
  readonly devices: number;
  readonly perDevice: number;
  readonly ratePerDevice: number;
}

export interface DurableFleet {
  /** Sequence numbers acknowledged so far, per device id. */
  readonly acked: Map<string, Set<number>>;
  ackedCount(): number;
  /** Longest publish → PUBACK wait seen, ms. */
  maxAckWaitMs(): number;
  /** Resolves once every message is acknowledged (devices resend after reconnecting). */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

export const FLEET_MEASUREMENT = 'cnc_machine';

/**
 * Devices that do what the contract asks of firmware: QoS 1, keep what is not acknowledged and
 * send it again after a reconnect (MQTT.js keeps its unacknowledged publishes and resends them
 * when it reconnects). Each message carries `seq` and a distinct timestamp.
 */
export async function durableFleet(o: DurableFleetOptions): Promise<DurableFleet> {
  const ids = Array.from({ length: o.devices }, (_, i) => `${o.prefix}-${i + 1}`);
  const acked = new Map(ids.map((id) => [id, new Set<number>()]));
  let count = 0;
  let maxWait = 0;
  let closing = false;
  const clients: MqttClient[] = await Promise.all(
    ids.map((id, i) =>
      mqtt.connectAsync(o.urls[i % o.urls.length]!, {
        ...deviceCredentials(id),
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 250,
        connectTimeout: 5_000,
        keepalive: 30,
      }),
    ),
  );
  for (const c of clients) c.on('error', () => undefined);
  const base = Date.now() - 60_000;
  const done = Promise.all(
    clients.map(async (client, d) => {
      const id = ids[d]!;
      const topic = `parks/science-city/${o.site}/${FLEET_MEASUREMENT}/${id}/telemetry`;
      const interval = 1000 / o.ratePerDevice;
      await sleep((d / clients.length) * interval);
      const sent: Promise<void>[] = [];
      let due = Date.now();
      for (let seq = 1; seq <= o.perDevice; seq++) {
        const payload = JSON.stringify({
          ts: base + seq,
          seq,
          metrics: { spindle_rpm: 10_000 + seq },
        });
        const at = Date.now();
        // MQTT.js fails the publishes it queued while resending its store after a reconnect
        // when that connection drops too ("Connection closed"): send those again, as firmware
        // that keeps what is unacknowledged would.
        const send = (): Promise<void> =>
          client.publishAsync(topic, payload, { qos: 1 }).then(
            () => {
              acked.get(id)!.add(seq);
              count++;
              maxWait = Math.max(maxWait, Date.now() - at);
            },
            () => (closing ? undefined : sleep(200).then(send)),
          );
        sent.push(send());
        due += interval;
        await sleep(Math.max(0, due - Date.now()));
      }
      await Promise.all(sent);
    }),
  ).then(() => undefined);
  return {
    acked,
    ackedCount: () => count,
    maxAckWaitMs: () => maxWait,
    done,
    close: () => {
      closing = true;
      return Promise.all(clients.map((c) => c.endAsync(true))).then(() => undefined);
    },
  };
}

/** Copies of the acknowledged sets, now (what must be stored whatever crashes next). */
export function snapshot(acked: Map<string, Set<number>>): Map<string, number[]> {
  return new Map([...acked].map(([id, seqs]) => [id, [...seqs]]));
}

/** The `seq` values stored per device on `site`, every point (duplicates would show twice). */
export async function storedSeqs(store: InfluxStore, site: string): Promise<Map<string, number[]>> {
  const [series = []] = await store.query(
    `SELECT "seq" FROM "${FLEET_MEASUREMENT}" WHERE "site" = '${site}' GROUP BY "device"`,
  );
  return new Map(series.map((s) => [s.tags?.['device'] ?? '?', s.values.map((v) => Number(v[1]))]));
}

/** What a check of acknowledged against stored found: empty lists mean nothing lost. */
export function lostAcknowledged(
  acknowledged: Map<string, number[]>,
  stored: Map<string, number[]>,
): string[] {
  const lost: string[] = [];
  for (const [id, seqs] of acknowledged) {
    const have = new Set(stored.get(id) ?? []);
    for (const seq of seqs) if (!have.has(seq)) lost.push(`${id}#${seq}`);
  }
  return lost;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
