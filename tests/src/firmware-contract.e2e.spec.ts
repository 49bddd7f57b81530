import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { DEV_GROUP_KEY, deviceCredentials, serviceCredentials } from '@parkpulse/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './support/platform.js';

const run = promisify(execFile);

/** Debian's python3, where apt puts python3-paho-mqtt (a python3 earlier on PATH may lack it). */
const DEBIAN_PYTHON = '/usr/bin/python3';

function requirePaho(): void {
  try {
    execFileSync(DEBIAN_PYTHON, ['-c', 'import paho.mqtt.client']);
  } catch {
    throw new Error(
      `${DEBIAN_PYTHON} cannot import paho.mqtt: install it with \`apt-get install -y python3-paho-mqtt\``,
    );
  }
}

/**
 * The contract to the letter, as firmware written elsewhere meets it: clients nobody here wrote
 * (Debian's mosquitto-clients and python3-paho-mqtt), key derivation as Python's standard
 * library writes it, text that is not ASCII.
 */
describe('the contract as foreign clients meet it', () => {
  let platform: Platform;
  const ts = Date.now() - 10_000;
  const base = 'parks/science-city/gz-auto-parts/cnc_machine';

  const pub = (deviceId: string, channel: string, message: string, password?: string) => {
    const device = deviceCredentials(deviceId);
    return run('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', String(platform.mqttPort), '-V', 'mqttv311', '-q', '1'],
      ...['-i', device.clientId, '-u', device.username, '-P', password ?? device.password],
      ...['-t', `${base}/${deviceId}/${channel}`, '-m', message],
    ]);
  };

  beforeAll(async () => {
    requirePaho();
    // HTTP_HOST: the ingestion's health and metrics on loopback only.
    platform = await startPlatform({ ingestionEnv: { HTTP_HOST: '127.0.0.1' } });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('accepts the device key as Python writes it: base64.b64encode(hmac(…).digest()), padded', async () => {
    const script = `
import base64, hashlib, hmac, os, sys, time
import paho.mqtt.client as mqtt
group_key = base64.b64decode(os.environ["GROUP_KEY"])           # the HMAC key: the decoded group key
device_id = "cnc-py-padded"
key = base64.b64encode(hmac.new(group_key, device_id.encode(), hashlib.sha256).digest()).decode()
assert key.endswith("="), key                                   # standard base64, padded
client = mqtt.Client(client_id=device_id, protocol=mqtt.MQTTv311)
client.username_pw_set(device_id, key)
result = {}
client.on_connect = lambda c, u, f, rc: result.setdefault("connack", rc)
client.on_publish = lambda c, u, mid: result.setdefault("puback", mid)
client.connect("127.0.0.1", int(os.environ["PORT"]), keepalive=30)
client.loop_start()
deadline = time.time() + 10
while "connack" not in result and time.time() < deadline: time.sleep(0.05)
if result.get("connack") != 0:
    print("CONNACK", result.get("connack")); sys.exit(1)
info = client.publish("${base}/cnc-py-padded/telemetry", '{"ts": ${ts}, "seq": 1, "metrics": {"spindle_rpm": 1200}}', qos=1)
info.wait_for_publish(10)
print("CONNACK 0, PUBACK", info.is_published())
client.disconnect(); client.loop_stop()
`;
    const { stdout } = await run(DEBIAN_PYTHON, ['-c', script], {
      env: { ...process.env, GROUP_KEY: DEV_GROUP_KEY, PORT: String(platform.mqttPort) },
    });
    expect(stdout.trim()).toBe('CONNACK 0, PUBACK True');
    await platform.waitForCount('cnc_machine', 'spindle_rpm', 1, `"device" = 'cnc-py-padded'`);
  });

  it('accepts base64url with padding from mosquitto_pub too, and stores it as the same device', async () => {
    const padded = `${deviceCredentials('cnc-url-padded').password}=`;
    await pub(
      'cnc-url-padded',
      'telemetry',
      JSON.stringify({ ts, seq: 1, metrics: { spindle_rpm: 900 } }),
      padded,
    );
    await platform.waitForCount('cnc_machine', 'spindle_rpm', 1, `"device" = 'cnc-url-padded'`);
  });

  it('counts string metrics in characters: 200 and 256 emoji are stored, 257 are dropped with the rule', async () => {
    await pub(
      'cnc-emoji',
      'telemetry',
      JSON.stringify({
        ts,
        seq: 1,
        metrics: {
          spindle_rpm: 1,
          note: '😀'.repeat(200),
          label: '🔧'.repeat(256),
          long: '⚙️'.repeat(257),
        },
      }),
    );
    await platform.waitForCount('cnc_machine', 'spindle_rpm', 1, `"device" = 'cnc-emoji'`);
    const [series = []] = await platform.store.query(
      `SELECT "note", "label", "long" FROM "cnc_machine" WHERE "device" = 'cnc-emoji'`,
    );
    expect(series[0]?.values).toEqual([[ts, '😀'.repeat(200), '🔧'.repeat(256), null]]);
    // ⚙️ is two code points (U+2699 U+FE0F): 514 characters.
    await platform.waitForCount('ingest_reject', 'detail', 1, `"device" = 'cnc-emoji'`);
    const [rejects = []] = await platform.store.query(
      `SELECT "reason", "detail" FROM "ingest_reject" WHERE "device" = 'cnc-emoji'`,
    );
    expect(rejects[0]?.values.map((v) => v.slice(1))).toEqual([
      ['field_string_too_long', 'long: 514 characters (Unicode code points), at most 256'],
    ]);
  });

  it('stores an event message with newlines and 1,024 emoji; refuses a bell, naming it', async () => {
    const good = [
      {
        ts,
        code: 'E_MULTILINE',
        severity: 'warning',
        message: 'Axis 4 collision\nstopped\r\n\tretry 2',
      },
      { ts: ts + 1, code: 'E_EMOJI', severity: 'info', message: '🔥'.repeat(1024) },
    ];
    for (const event of good) await pub('cnc-events', 'event', JSON.stringify(event));
    await pub(
      'cnc-events',
      'event',
      JSON.stringify({ ts: ts + 2, code: 'E_BELL', severity: 'info', message: 'ring\u0007' }),
    );
    await platform.waitForCount('device_event', 'message', 2, `"device" = 'cnc-events'`);
    const [events = []] = await platform.store.query(
      `SELECT "message", "code" FROM "device_event" WHERE "device" = 'cnc-events'`,
    );
    expect(events[0]?.values).toEqual([
      [ts, good[0]!.message, 'E_MULTILINE'],
      [ts + 1, good[1]!.message, 'E_EMOJI'],
    ]);
    await platform.waitForCount('ingest_reject', 'detail', 1, `"device" = 'cnc-events'`);
    const [rejects = []] = await platform.store.query(
      `SELECT "reason", "detail" FROM "ingest_reject" WHERE "device" = 'cnc-events'`,
    );
    expect(rejects[0]?.values.map((v) => v.slice(1))).toEqual([
      [
        'event_invalid',
        'message must not contain control characters other than tab, LF and CR (found U+0007)',
      ],
    ]);
  });

  it("stores a cmd_result's multi-line message with its lines, as an event's", async () => {
    const message = 'spindle stopped\nat 12:01\r\n\ttool 4 "T-12"';
    await pub(
      'cnc-answers',
      'cmd_result',
      JSON.stringify({ id: 'c-77', status: 'failed', reason: 'spindle_fault', message, ts }),
    );
    await platform.waitForCount('device_command', 'id', 1, `"device" = 'cnc-answers'`);
    const [points = []] = await platform.store.query(
      `SELECT "detail", "status", "source" FROM "device_command" WHERE "device" = 'cnc-answers'`,
    );
    expect(points[0]?.values).toEqual([[ts, `spindle_fault: ${message}`, 'failed', 'device']]);
  });

  it('under MQTT 3.1 refuses a device id over 23 characters with CONNACK 2, as documented; 3.1.1 takes it', async () => {
    const id = 'cnc-twenty-four-chars-0'; // 23
    const long = `${id}1`; // 24
    const v31 = (deviceId: string, version: string) => {
      const d = deviceCredentials(deviceId);
      return run('mosquitto_pub', [
        ...['-h', '127.0.0.1', '-p', String(platform.mqttPort), '-V', version, '-q', '1'],
        ...['-i', d.clientId, '-u', d.username, '-P', d.password],
        ...['-t', `${base}/${deviceId}/status`, '-m', 'online'],
      ]).then(
        () => 'accepted',
        (error: { stderr?: string }) => (error.stderr ?? '').trim(),
      );
    };
    expect(await v31(id, 'mqttv31')).toBe('accepted');
    expect(await v31(long, 'mqttv31')).toMatch(/identifier rejected/i);
    expect(await v31(long, 'mqttv311')).toBe('accepted');
  });

  it('acknowledges a misspelt channel or a wrong level count under the device path and files a dead letter with the rule', async () => {
    // mosquitto_pub -q 1 exits 0 only once it has the PUBACK: on the old broker each of these
    // closed the connection instead, and firmware resending unacknowledged messages looped.
    const cases = [
      ['telemetri', 'unknown_channel'],
      ['TELEMETRY', 'unknown_channel'],
      ['telemetry/extra', 'topic_invalid'],
      ['telemetry/', 'topic_invalid'],
    ] as const;
    // The device's dead letters as a firmware engineer reads them: mosquitto_sub as the observer.
    const observer = serviceCredentials('parkpulse-observer', 'dl');
    // stdbuf -oL: line-buffered, so its SUBACK is seen before the device publishes.
    const sub = spawn(
      'stdbuf',
      [
        ...['-oL', 'mosquitto_sub'],
        ...['-h', '127.0.0.1', '-p', String(platform.mqttPort), '-V', 'mqttv311', '-q', '1'],
        ...['-i', observer.clientId, '-u', observer.username, '-P', observer.password],
        ...['-t', `$parkpulse/dead-letters/${base}/cnc-typo/#`, '-v', '-d'],
        ...['-C', String(cases.length), '-W', '60'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const subscribed = new Promise<void>((resolve) =>
      sub.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('received SUBACK')) resolve();
      }),
    );
    const ended = new Promise<number | null>((resolve) => sub.on('close', resolve));
    await subscribed;
    for (const [channel] of cases)
      await pub('cnc-typo', channel, `{"ts": ${ts}, "metrics": {"spindle_rpm": 1}}`);
    const code = await ended;
    expect(code, out).toBe(0);
    const notices = out
      .split('\n')
      .filter((l) => l.startsWith('$parkpulse/dead-letters/'))
      .map((l) => {
        const at = l.indexOf(' ');
        return [l.slice(0, at), (JSON.parse(l.slice(at + 1)) as { reason: string }).reason];
      });
    expect(notices.sort()).toEqual(
      cases
        .map(([channel, reason]) => [`$parkpulse/dead-letters/${base}/cnc-typo/${channel}`, reason])
        .sort(),
    );
    await platform.waitForCount('ingest_reject', 'detail', cases.length, `"device" = 'cnc-typo'`);
    const [series = []] = await platform.store.query(
      `SELECT "reason", "topic", "detail" FROM "ingest_reject" WHERE "device" = 'cnc-typo'`,
    );
    const rows = series[0]!.values.map((v) => [String(v[2]), String(v[1])]);
    for (const [channel, reason] of cases)
      expect(rows).toContainEqual([`${base}/cnc-typo/${channel}`, reason]);
    expect(series[0]!.values.map((v) => String(v[3]))).toContainEqual(
      expect.stringMatching(/^7 levels, a topic has 6/),
    );
  });

  it('binds the ingestion HTTP listener to HTTP_HOST only', async () => {
    const port = new URL(platform.ingestionHttp).port;
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
    // Another loopback address of this machine: answered on 0.0.0.0, refused on 127.0.0.1.
    const other = await fetch(`http://127.0.0.2:${port}/health/live`).then(
      (r) => `answered ${r.status}`,
      (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
    );
    expect(other).toBe('ECONNREFUSED');
  });
});
