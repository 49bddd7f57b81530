import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceCredentials, devRegistryFile, serviceCredentials } from '@parkpulse/dev-services';
import {
  decodeSparkplugPayload,
  encodeSparkplugPayload,
  SPARKPLUG_DATATYPES as D,
} from '@parkpulse/telemetry';
import mqtt, { type MqttClient } from 'mqtt';
import { newClient } from 'sparkplug-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settledLedger, sleep, tempSpoolDir } from './support/fault-fleet.js';
import { ROOT, startPlatform, type Platform } from './support/platform.js';

const HOST_ID = 'parkpulse-e2e';
const GROUP = 'e2e-line';
const PARK = 'science-city';
/** Tahu's edge node, the raw one (DATA before BIRTH, bad payloads) and the one of the crash. */
const TAHU = 'sp-tahu-1';
const RAW = 'sp-raw-1';
const CRASH = 'sp-crash-1';
/** DDATA messages of the crash run (QoS 1), seq wrapping 255 → 0 several times. */
const CRASH_MESSAGES = 1200;
const CRASH_SITE = 'sp-crash-site';

const node = (id: string, site: string, line: string, cnc: string) => `
    - group: ${GROUP}
      node: ${id}
      park: ${PARK}
      site: ${site}
      assetType: production_line
      deviceId: ${line}
      devices:
        - { id: cnc-1, assetType: cnc_machine, deviceId: ${cnc} }`;

const SPARKPLUG_SECTION = `
sparkplug:
  hostId: ${HOST_ID}
  nodes:${node(TAHU, 'gz-auto-parts', 'sp-line-1', 'sp-cnc-1')}${node(RAW, 'gz-auto-parts', 'sp-line-2', 'sp-cnc-2')}${node(CRASH, CRASH_SITE, 'sp-line-3', 'sp-cnc-3')}
  metricNames:
    cnc_machine:
      Spindle/Speed RPM: spindle_rpm
`;

const topicOf = (verb: string, edgeNode: string, device?: string) =>
  `spBv1.0/${GROUP}/${verb}/${edgeNode}${device ? `/${device}` : ''}`;

function nbirth(seq: number, ts: number): Buffer {
  return encodeSparkplugPayload({
    timestamp: ts,
    seq,
    metrics: [
      { name: 'bdSeq', datatype: D.Int64, value: 0 },
      { name: 'Node Control/Rebirth', datatype: D.Boolean, value: false },
    ],
  });
}

function dbirth(seq: number, ts: number, rpm: number): Buffer {
  return encodeSparkplugPayload({
    timestamp: ts,
    seq,
    metrics: [{ name: 'Spindle/Speed RPM', alias: 10, datatype: D.Int32, value: rpm }],
  });
}

/** DDATA by alias only. */
function ddata(seq: number, ts: number, rpm: number): Buffer {
  return encodeSparkplugPayload({
    timestamp: ts,
    seq,
    metrics: [{ alias: 10, timestamp: ts, datatype: D.Int32, value: rpm }],
  });
}

async function edgeNode(url: string, id: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    ...deviceCredentials(id),
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

interface Seen {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
}

/**
 * ParkPulse as a Sparkplug B host application, end to end: real influxd, broker and ingestion
 * processes, edge nodes over MQTT — Eclipse Tahu's `sparkplug-client` 3.2.4 and plain MQTT
 * clients publishing spec payloads — and an observer watching what the host publishes.
 */
describe('Sparkplug B host application', () => {
  let platform: Platform;
  let spool: Awaited<ReturnType<typeof tempSpoolDir>>;
  let registryDir: string;
  let observer: MqttClient;
  const seen: Seen[] = [];
  const T = Math.floor(Date.now() / 1000) * 1000 - 30_000;

  const rows = async (q: string) => {
    const [series] = await platform.store.query(q);
    return (series ?? []).flatMap((s) =>
      s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))),
    );
  };
  const states = () =>
    seen
      .filter((m) => m.topic === `spBv1.0/STATE/${HOST_ID}`)
      .map((m) => ({
        ...(JSON.parse(m.payload.toString()) as { online: boolean; timestamp: number }),
        retain: m.retain,
      }));

  beforeAll(async () => {
    spool = await tempSpoolDir();
    registryDir = await mkdtemp(join(tmpdir(), 'parkpulse-sparkplug-registry-'));
    const registry = join(registryDir, 'registry.yaml');
    await writeFile(registry, (await readFile(devRegistryFile(ROOT), 'utf8')) + SPARKPLUG_SECTION);
    platform = await startPlatform({
      brokerEnv: { REGISTRY_FILE: registry },
      ingestionEnv: {
        REGISTRY_FILE: registry,
        SPARKPLUG_HOST_ID: HOST_ID,
        SPOOL_DIR: spool.dir,
        PLATFORM_STATS_INTERVAL_MS: '1000',
      },
    });
    observer = await mqtt.connectAsync(platform.mqttUrl, {
      ...serviceCredentials('parkpulse-observer', 'e2e-sparkplug'),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    observer.on('message', (topic, payload, packet) =>
      seen.push({ topic, payload: Buffer.from(payload), retain: packet.retain }),
    );
    await observer.subscribeAsync(['spBv1.0/#', '$parkpulse/dead-letters/spBv1.0/#'], { qos: 1 });
  });

  afterAll(async () => {
    await observer?.endAsync();
    await platform?.stop();
    await spool?.remove();
    if (registryDir) await rm(registryDir, { recursive: true, force: true });
  });

  it('tck-id-host-topic-phid-birth-qos/-retain: a subscriber gets the retained STATE birth', async () => {
    await until('the STATE birth', () => (states().length > 0 ? true : undefined));
    const [birth] = states();
    expect(birth).toEqual({ online: true, timestamp: expect.any(Number) as number, retain: true });
    expect(birth!.timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('Eclipse Tahu sparkplug-client 3.2.4: NBIRTH, DBIRTH, DDATA land in InfluxDB exactly; its lost connection is offline presence', async () => {
    const creds = deviceCredentials(TAHU);
    const tahu = newClient({
      serverUrl: platform.mqttUrl,
      username: creds.username,
      password: creds.password,
      groupId: GROUP,
      edgeNode: TAHU,
      clientId: creds.clientId,
      keepalive: 30,
    });
    tahu.on('birth', () => {
      tahu.publishNodeBirth({
        timestamp: T,
        metrics: [
          { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
          { name: 'Line/Good Count', alias: 1, type: 'UInt64', value: 4200 },
          { name: 'Line/Power kW', alias: 2, type: 'Float', value: 41.2 },
        ],
      });
      tahu.publishDeviceBirth('cnc-1', {
        timestamp: T,
        metrics: [
          { name: 'Spindle/Speed RPM', alias: 10, type: 'Int32', value: 11850 },
          { name: 'Temperature C', alias: 11, type: 'Double', value: 41.5 },
          { name: 'State', alias: 12, type: 'String', value: 'running' },
          { name: 'Door Open', alias: 13, type: 'Boolean', value: false },
        ],
      });
      tahu.publishDeviceData('cnc-1', {
        timestamp: T + 1000,
        metrics: [
          { alias: 10, type: 'Int32', value: 12000 },
          { alias: 11, type: 'Double', value: 43.25 },
        ],
      });
    });
    await platform.waitForCount('cnc_machine', 'spindle_rpm', 2, `"device" = 'sp-cnc-1'`);
    await platform.waitForCount('production_line', 'line_good_count', 1, `"device" = 'sp-line-1'`);
    expect(
      await rows(
        `SELECT "line_good_count", "line_power_kw", "site" FROM "production_line" WHERE "device" = 'sp-line-1'`,
      ),
    ).toEqual([
      {
        time: T,
        line_good_count: 4200,
        line_power_kw: 41.2,
        site: 'gz-auto-parts',
      },
    ]);
    expect(
      await rows(
        `SELECT "spindle_rpm", "temperature_c", "state", "door_open" FROM "cnc_machine" WHERE "device" = 'sp-cnc-1'`,
      ),
    ).toEqual([
      {
        time: T,
        spindle_rpm: 11850,
        temperature_c: 41.5,
        state: 'running',
        door_open: false,
      },
      {
        time: T + 1000,
        spindle_rpm: 12000,
        temperature_c: 43.25,
        state: null,
        door_open: null,
      },
    ]);

    // The connection drops without DISCONNECT: the broker publishes Tahu's will (its NDEATH,
    // bdSeq 0 as in its NBIRTH — Tahu never increments it).
    (tahu as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();
    tahu.stop();
    const presence = async (device: string) => {
      const [last] = await rows(
        `SELECT "presence" FROM "device_status" WHERE "device" = '${device}' AND "presence" <> '' ORDER BY time DESC LIMIT 1`,
      );
      return last?.['presence'] === 'offline' ? 'offline' : undefined;
    };
    expect(await until('sp-line-1 offline', () => presence('sp-line-1'))).toBe('offline');
    expect(await until('sp-cnc-1 offline', () => presence('sp-cnc-1'))).toBe('offline');
    expect(
      (await rows(`SELECT "online" FROM "device_status" WHERE "device" = 'sp-line-1'`)).map(
        (r) => r['online'],
      ),
    ).toEqual([true, false]);
  });

  it('tck-id-operational-behavior-host-reordering-rebirth (DATA before BIRTH): an NCMD rebirth reaches the edge node; a payload that is not protobuf is a dead letter with its reason, the next good message is stored', async () => {
    const client = await edgeNode(platform.mqttUrl, RAW);
    const commands: Buffer[] = [];
    client.on('message', (_topic, payload) => commands.push(Buffer.from(payload)));
    await client.subscribeAsync(topicOf('NCMD', RAW), { qos: 0 });

    await client.publishAsync(topicOf('DDATA', RAW, 'cnc-1'), ddata(5, T, 1), { qos: 1 });
    const command = await until('the rebirth request', () => commands[0]);
    const decoded = decodeSparkplugPayload(command);
    if (!decoded.ok) throw decoded.error;
    expect(decoded.value.seq).toBeUndefined();
    expect(decoded.value.metrics.map((m) => [m.name, m.datatype, m.value])).toEqual([
      ['Node Control/Rebirth', D.Boolean, { kind: 'boolean', value: true }],
    ]);

    // The edge node answers with its BIRTHs; then a broken payload, then good DATA.
    await client.publishAsync(topicOf('NBIRTH', RAW), nbirth(0, T), { qos: 1 });
    await client.publishAsync(topicOf('DBIRTH', RAW, 'cnc-1'), dbirth(1, T, 100), { qos: 1 });
    await client.publishAsync(topicOf('DDATA', RAW, 'cnc-1'), Buffer.from('{"not":"protobuf"}'), {
      qos: 1,
    });
    await client.publishAsync(topicOf('DDATA', RAW, 'cnc-1'), ddata(2, T + 1, 101), { qos: 1 });
    await client.endAsync();

    await platform.waitForCount('cnc_machine', 'spindle_rpm', 2, `"device" = 'sp-cnc-2'`);
    expect(
      await rows(`SELECT "spindle_rpm" FROM "cnc_machine" WHERE "device" = 'sp-cnc-2'`),
    ).toEqual([
      { time: T, spindle_rpm: 100 },
      { time: T + 1, spindle_rpm: 101 },
    ]);
    await platform.waitForCount('ingest_reject', 'detail', 2, `"device" = 'sp-cnc-2'`);
    expect(
      (
        await rows(
          `SELECT "reason", "topic" FROM "ingest_reject" WHERE "device" = 'sp-cnc-2' ORDER BY time`,
        )
      ).map((r) => [r['reason'], r['topic']]),
    ).toEqual([
      ['sparkplug_no_birth', topicOf('DDATA', RAW, 'cnc-1')],
      ['payload_not_protobuf', topicOf('DDATA', RAW, 'cnc-1')],
    ]);
    const letters = await until('both dead letters', () => {
      const l = seen.filter(
        (m) => m.topic === `$parkpulse/dead-letters/${topicOf('DDATA', RAW, 'cnc-1')}`,
      );
      return l.length >= 2 ? l : undefined;
    });
    expect(
      letters.map((l) => (JSON.parse(l.payload.toString()) as { reason: string }).reason),
    ).toEqual(['sparkplug_no_birth', 'payload_not_protobuf']);
  });

  it('exactly once through an ingestion kill -9 with QoS-1 Sparkplug DDATA: no seq gap in the ledger, every value stored once; the STATE will is published', async () => {
    const client = await edgeNode(platform.mqttUrl, CRASH);
    await client.publishAsync(topicOf('NBIRTH', CRASH), nbirth(0, T), { qos: 1 });
    await client.publishAsync(topicOf('DBIRTH', CRASH, 'cnc-1'), dbirth(1, T, CRASH_MESSAGES), {
      qos: 1,
    });
    let acked = 0;
    let failed = 0;
    const sent = (async () => {
      for (let i = 0; i < CRASH_MESSAGES; i++) {
        client.publish(
          topicOf('DDATA', CRASH, 'cnc-1'),
          ddata((i + 2) & 0xff, T + 10 + i, i),
          { qos: 1 },
          (error) => (error ? failed++ : acked++),
        );
        if (i % 4 === 3) await sleep(15);
      }
    })();
    while (acked < CRASH_MESSAGES / 3) await sleep(20);
    const birthsBefore = states().filter((s) => s.online);
    await platform.ingestion.stop('SIGKILL');
    const death = await until('the STATE death', () => states().find((s) => !s.online));
    // The will carries the timestamp of the birth of the connection it belonged to.
    expect(death).toEqual({
      online: false,
      timestamp: birthsBefore.at(-1)!.timestamp,
      retain: false,
    });
    await platform.ingestion.start();
    await sent;
    await until(
      'every DDATA acknowledged',
      () => (acked + failed === CRASH_MESSAGES ? true : undefined),
      60_000,
    );
    await client.endAsync();
    expect(failed).toBe(0);

    // A new connection, a new birth, newer than the will.
    const rebirth = await until('a new STATE birth', () =>
      states().find((s) => s.online && s.timestamp > death.timestamp),
    );
    expect(rebirth.online).toBe(true);

    const where = `"device" = 'sp-cnc-3'`;
    await platform.waitForCount('cnc_machine', 'spindle_rpm', CRASH_MESSAGES + 1, where);
    const [stats] = await rows(
      `SELECT COUNT("spindle_rpm") AS n, COUNT(DISTINCT("spindle_rpm")) AS distinct_values, SUM("spindle_rpm") AS total, MIN("spindle_rpm") AS lowest, MAX("spindle_rpm") AS highest FROM "cnc_machine" WHERE ${where}`,
    );
    expect(stats).toEqual({
      time: 0,
      n: CRASH_MESSAGES + 1,
      distinct_values: CRASH_MESSAGES + 1,
      total: (CRASH_MESSAGES * (CRASH_MESSAGES - 1)) / 2 + CRASH_MESSAGES,
      lowest: 0,
      highest: CRASH_MESSAGES,
    });
    expect(await platform.count('ingest_reject', 'detail', `"device" = 'sp-cnc-3'`)).toBe(0);

    // The ledger counts the edge node's seq unwrapped: NBIRTH 0, DBIRTH 1, DDATA 2…N+1.
    const ledger = await settledLedger(platform.store, CRASH_SITE, 1, CRASH_MESSAGES + 1);
    const row = ledger.get('sp-line-3');
    expect({
      last_seq: row?.['last_seq'],
      missing: row?.['missing'],
      expected: row?.['expected'],
      resets: row?.['resets'],
    }).toEqual({
      last_seq: CRASH_MESSAGES + 1,
      missing: 0,
      expected: CRASH_MESSAGES + 2,
      resets: 0,
    });
  });
});
