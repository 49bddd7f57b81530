import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deviceCredentials,
  metricValue,
  waitFor,
  type InfluxdHandle,
} from '@parkpulse/dev-services';
import type { InfluxStore } from '@parkpulse/influx';
import mqtt, { type MqttClient } from 'mqtt';

/**
 * A plain fleet of CNC machines for the fault tests: each device on its own MQTT connection with
 * its own credentials, publishing `seq` 1…N at QoS 1 with distinct timestamps, at a steady rate.
 * The broker stays up in these tests, so MQTT.js' own QoS-1 handling is all a device needs.
 */
export interface FleetOptions {
  readonly url: string;
  /** Device ids are `{prefix}-{n}`, all on site `site`. */
  readonly prefix: string;
  readonly site: string;
  readonly devices: number;
  readonly perDevice: number;
  readonly ratePerDevice: number;
}

export interface FleetRun {
  /** Messages the broker has acknowledged so far. */
  acked(): number;
  /** Resolves with the number acknowledged once every message is. */
  readonly done: Promise<number>;
}

export const MEASUREMENT = 'cnc_machine';

export async function publishFleet(o: FleetOptions): Promise<FleetRun> {
  const ids = Array.from({ length: o.devices }, (_, i) => `${o.prefix}-${i + 1}`);
  const clients = await Promise.all(ids.map((id) => connectDevice(o.url, id)));
  // Inside the accepted window and distinct per sample: InfluxDB keeps one point per timestamp.
  const base = Date.now() - 60_000;
  let acked = 0;
  const done = Promise.all(
    clients.map(async (client, d) => {
      const topic = `parks/science-city/${o.site}/${MEASUREMENT}/${ids[d]}/telemetry`;
      const interval = 1000 / o.ratePerDevice;
      await sleep((d / clients.length) * interval); // spread the phases
      const sent: Promise<void>[] = [];
      let due = Date.now();
      for (let seq = 1; seq <= o.perDevice; seq++) {
        const payload = JSON.stringify({
          ts: base + seq,
          seq,
          metrics: { spindle_rpm: 10_000 + seq, spindle_load_pct: 40 + (seq % 50) },
        });
        sent.push(
          client.publishAsync(topic, payload, { qos: 1 }).then(() => {
            acked++;
          }),
        );
        due += interval;
        await sleep(Math.max(0, due - Date.now()));
      }
      await Promise.all(sent);
    }),
  ).then(async () => {
    await Promise.all(clients.map((c) => c.endAsync()));
    return acked;
  });
  return { acked: () => acked, done };
}

function connectDevice(url: string, deviceId: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    ...deviceCredentials(deviceId),
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 500,
    connectTimeout: 10_000,
  });
}

/** Per device: COUNT, COUNT(DISTINCT), MIN and MAX of `seq` on `site`. */
export async function seqFigures(store: InfluxStore, site: string): Promise<Map<string, number[]>> {
  const [series = []] = await store.query(
    `SELECT COUNT("seq"), COUNT(DISTINCT("seq")), MIN("seq"), MAX("seq") FROM "${MEASUREMENT}" WHERE "site" = '${site}' GROUP BY "device"`,
  );
  return new Map(series.map((s) => [s.tags?.['device'] ?? '?', s.values[0]!.slice(1) as number[]]));
}

/** Polls a Prometheus figure of a service until `check` holds (or fails with its last value). */
export async function waitForMetric(
  baseUrl: string,
  name: string,
  check: (value: number) => boolean,
  timeoutMs = 60_000,
  labels = '',
): Promise<number> {
  let last = Number.NaN;
  try {
    await waitFor(
      `${name}${labels}`,
      async () => check((last = await metricValue(baseUrl, name, labels))),
      timeoutMs,
      200,
    );
  } catch {
    throw new Error(`${name}${labels} never met the expectation; last value ${last}`);
  }
  return last;
}

/**
 * Starts a halted influxd again on its port. Tried up to three times: while it was down, an
 * outgoing connection may have been given that very port for a moment.
 */
export async function restartInfluxd(influx: InfluxdHandle): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await influx.restart();
    } catch (error) {
      if (attempt >= 3) throw error;
      await sleep(1000);
    }
  }
}

/** A private spool directory for one test's ingestion. */
export async function tempSpoolDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'parkpulse-spool-e2e-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.spool')).sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A device's newest `device_ledger` row (field → value), or undefined when it has none yet. */
export async function latestLedgerRows(
  store: InfluxStore,
  site: string,
): Promise<Map<string, Record<string, number>>> {
  const [series = []] = await store.query(
    `SELECT * FROM "device_ledger" WHERE "site" = '${site}' GROUP BY "device" ORDER BY time DESC LIMIT 1`,
  );
  return new Map(
    series.map((s) => [
      s.tags?.['device'] ?? '?',
      Object.fromEntries(s.columns.map((c, k) => [c, s.values[0]![k] as number])),
    ]),
  );
}

/**
 * Waits until the ledger has reported every one of `devices` at `lastSeq` with nothing missing
 * (the figures of an interval come a little after the samples), then returns the rows; on a
 * timeout returns what it last saw, for the assertions to show.
 */
export async function settledLedger(
  store: InfluxStore,
  site: string,
  devices: number,
  lastSeq: number,
  timeoutMs = 30_000,
): Promise<Map<string, Record<string, number>>> {
  let rows = new Map<string, Record<string, number>>();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    rows = await latestLedgerRows(store, site);
    const settled = [...rows.values()].filter(
      (r) => r['last_seq'] === lastSeq && r['missing'] === 0,
    );
    if (rows.size === devices && settled.length === devices) return rows;
    await sleep(300);
  }
  return rows;
}
