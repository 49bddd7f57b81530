import { deviceCredentials } from '@parkpulse/dev-services';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './support/platform.js';

const base = (device: string) => `parks/science-city/gz-auto-parts/cnc_machine/${device}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A device as firmware does it: `offline` as last will, `online` retained on connect. */
async function connectDevice(platform: Platform, device: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(platform.mqttUrl, {
    ...deviceCredentials(device),
    reconnectPeriod: 0,
    will: {
      topic: `${base(device)}/status`,
      payload: Buffer.from('offline'),
      qos: 1,
      retain: true,
    },
  });
  await client.publishAsync(`${base(device)}/status`, 'online', { qos: 1, retain: true });
  return client;
}

describe('presence: online, stale, offline and flapping from status, last will and silence', () => {
  let platform: Platform;
  const clients: MqttClient[] = [];

  /** The last `presence` of each device, once `want` holds. */
  async function presenceWhen(want: Record<string, string>): Promise<Record<string, string>> {
    let seen: Record<string, string> = {};
    for (let i = 0; i < 100; i++) {
      const [series = []] = await platform.store.query(
        `SELECT last("presence") FROM "device_status" WHERE "device" =~ /^presence-/ GROUP BY "device"`,
      );
      seen = Object.fromEntries(series.map((s) => [s.tags?.['device'], String(s.values[0]?.[1])]));
      if (Object.entries(want).every(([d, state]) => seen[d] === state)) return seen;
      await sleep(200);
    }
    throw new Error(`presence ${JSON.stringify(seen)}, wanted ${JSON.stringify(want)}`);
  }

  beforeAll(async () => {
    platform = await startPlatform({
      // a CNC cell reports every second: stale after 3 s of silence here (30 s by default)
      ingestionEnv: { PLATFORM_STATS_INTERVAL_MS: '500', PRESENCE_MIN_STALE_MS: '0' },
    });
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await platform?.stop();
  });

  it('tells the four states apart, per device and per park', async () => {
    const quiet = await connectDevice(platform, 'presence-quiet');
    const lost = await connectDevice(platform, 'presence-lost');
    const steady = await connectDevice(platform, 'presence-steady');
    clients.push(quiet, lost, steady);
    const report = (c: MqttClient, device: string) =>
      c.publishAsync(`${base(device)}/telemetry`, JSON.stringify({ metrics: { spindle_rpm: 1 } }), {
        qos: 1,
      });
    await report(quiet, 'presence-quiet');
    await presenceWhen({ 'presence-quiet': 'online', 'presence-lost': 'online' });

    lost.stream.destroy(); // no DISCONNECT: the broker publishes the last will
    // A device whose link keeps dropping, as its status channel tells it (a gateway reporting for
    // a field device, say): online, offline, online … six changes within ten minutes.
    const flapping = await connectDevice(platform, 'presence-flapping');
    clients.push(flapping);
    for (const status of ['offline', 'online', 'offline', 'online', 'offline', 'online'])
      await flapping.publishAsync(`${base('presence-flapping')}/status`, status, { qos: 1 });
    // `steady` keeps reporting, `quiet` stays connected but says nothing
    const steadyReports = setInterval(() => void report(steady, 'presence-steady'), 250);
    await sleep(4500);
    await report(flapping, 'presence-flapping');
    const states = await presenceWhen({
      'presence-quiet': 'stale',
      'presence-lost': 'offline',
      'presence-flapping': 'flapping',
      'presence-steady': 'online',
    });
    expect(states).toEqual({
      'presence-quiet': 'stale',
      'presence-lost': 'offline',
      'presence-flapping': 'flapping',
      'presence-steady': 'online',
    });
    // every status of the flapping device is its own point, even those sent back to back
    expect(await platform.count('device_status', 'online', `"device" = 'presence-flapping'`)).toBe(
      7,
    );
    await sleep(700); // the next per-park figures
    clearInterval(steadyReports);
    const [park = []] = await platform.store.query(
      `SELECT last("online"), last("stale"), last("offline"), last("flapping") FROM "park_presence" WHERE "park" = 'science-city'`,
    );
    expect(park[0]?.values[0]?.slice(1)).toEqual([1, 1, 1, 1]);
  });
});
