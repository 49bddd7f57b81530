import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { deviceCredentials, serviceCredentials } from '@parkpulse/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './support/platform.js';

const run = promisify(execFile);

/** Interop: clients nobody here wrote (Debian's mosquitto-clients) speak to the platform. */
describe('mosquitto_pub publishing contract payloads', () => {
  let platform: Platform;
  const ts = Date.now() - 10_000;
  const base = 'parks/science-city/precision-moulding/injection_moulder/imm-07';
  const device = deviceCredentials('imm-07');
  const observer = serviceCredentials('parkpulse-observer', 'mosquitto-sub');

  const pub = (topic: string, message: string, ...extra: string[]) =>
    run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(platform.mqttPort),
      '-V',
      'mqttv311',
      '-q',
      '1',
      '-i',
      device.clientId,
      '-u',
      device.username,
      '-P',
      device.password,
      '-t',
      topic,
      '-m',
      message,
      ...extra,
    ]);

  beforeAll(async () => {
    platform = await startPlatform();
    await pub(`${base}/status`, 'online', '-r');
    await pub(
      `${base}/telemetry`,
      JSON.stringify({
        ts,
        seq: 1,
        metrics: { barrel_temp_c: 231.5, mould_temp_c: 48, state: 'running', shot_count: 120034 },
      }),
    );
    await pub(
      `${base}/telemetry`,
      JSON.stringify({
        samples: [
          { ts: new Date(ts + 1000).toISOString(), seq: 2, metrics: { barrel_temp_c: 232 } },
          { ts: ts + 2000, seq: 3, metrics: { barrel_temp_c: 232.5, state: 'fault' } },
        ],
      }),
    );
    await pub(
      `${base}/event`,
      JSON.stringify({
        ts: ts + 2000,
        code: 'HEATER_ZONE_3',
        severity: 'critical',
        message: 'Zone 3 heater open circuit',
      }),
    );
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('stores a single sample and a batch, with exact values and timestamps', async () => {
    await platform.waitForCount('injection_moulder', 'seq', 3);
    const [series = []] = await platform.store.query(
      `SELECT "seq", "barrel_temp_c", "mould_temp_c", "shot_count", "state" FROM "injection_moulder" WHERE "device" = 'imm-07'`,
    );
    expect(series[0]?.values).toEqual([
      [ts, 1, 231.5, 48, 120034, 'running'],
      [ts + 1000, 2, 232, null, null, null],
      [ts + 2000, 3, 232.5, null, null, 'fault'],
    ]);
    expect(series[0]?.columns[0]).toBe('time');
  });

  it('stores the retained status and the event', async () => {
    await platform.waitForCount('device_status', 'online', 1);
    await platform.waitForCount('device_event', 'message', 1);
    const [events = []] = await platform.store.query(
      `SELECT "message", "code", "severity", "site" FROM "device_event"`,
    );
    expect(events[0]?.values).toEqual([
      [ts + 2000, 'Zone 3 heater open circuit', 'HEATER_ZONE_3', 'critical', 'precision-moulding'],
    ]);
    const [status = []] = await platform.store.query(
      `SELECT "online", "asset_type" FROM "device_status" WHERE "device" = 'imm-07'`,
    );
    expect(status[0]?.values.map((v) => v.slice(1))).toEqual([[true, 'injection_moulder']]);
  });

  it('mosquitto_sub receives what a device publishes (an observer account may read parks/#)', async () => {
    const sub = run('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(platform.mqttPort),
      '-i',
      observer.clientId,
      '-u',
      observer.username,
      '-P',
      observer.password,
      '-t',
      `${base}/telemetry`,
      '-C',
      '1',
      '-W',
      '10',
    ]);
    await new Promise((r) => setTimeout(r, 300));
    await pub(
      `${base}/telemetry`,
      JSON.stringify({ ts: ts + 3000, seq: 4, metrics: { barrel_temp_c: 233 } }),
    );
    const { stdout } = await sub;
    expect(JSON.parse(stdout)).toEqual({ ts: ts + 3000, seq: 4, metrics: { barrel_temp_c: 233 } });
  });
});
