import { quoteString } from '@parkpulse/influx';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceCredentials } from '@parkpulse/dev-services';
import { metricValue, startPlatform, type Platform } from './support/platform.js';

const GOOD_TOPIC = 'parks/science-city/gz-auto-parts/cnc_machine/cnc-bad-input/telemetry';

interface BadCase {
  readonly name: string;
  readonly topic?: string;
  readonly payload: string | Buffer;
  readonly reason: string;
}

const now = Date.now();
const BAD: BadCase[] = [
  { name: 'not JSON', payload: 'spindle_rpm=11850', reason: 'payload_not_json' },
  { name: 'NaN literal', payload: '{"metrics": {"spindle_rpm": NaN}}', reason: 'payload_not_json' },
  {
    name: 'Infinity as the only value',
    payload: '{"metrics": {"spindle_rpm": 1e999}}',
    reason: 'no_valid_fields',
  },
  { name: 'metrics not an object', payload: '{"metrics": [1, 2]}', reason: 'payload_invalid' },
  { name: 'a JSON array', payload: '[{"metrics": {"spindle_rpm": 1}}]', reason: 'payload_invalid' },
  {
    name: 'ts of the wrong type',
    payload: '{"ts": true, "metrics": {"spindle_rpm": 1}}',
    reason: 'timestamp_invalid',
  },
  {
    name: 'seq negative',
    payload: '{"seq": -1, "metrics": {"spindle_rpm": 1}}',
    reason: 'payload_invalid',
  },
  {
    name: 'a string where the catalogue wants a number, alone',
    payload: '{"metrics": {"spindle_rpm": "fast"}}',
    reason: 'no_valid_fields',
  },
  {
    name: 'metric name with a space',
    payload: '{"metrics": {"spindle rpm": 1}}',
    reason: 'metric_name_invalid',
  },
  {
    name: 'metric name with a comma',
    payload: '{"metrics": {"a,b": 1}}',
    reason: 'metric_name_invalid',
  },
  { name: 'metric name with =', payload: '{"metrics": {"a=b": 1}}', reason: 'metric_name_invalid' },
  {
    name: 'metric name with a quote',
    payload: '{"metrics": {"a\\"b": 1}}',
    reason: 'metric_name_invalid',
  },
  {
    name: 'metric name with a backslash',
    payload: '{"metrics": {"a\\\\b": 1}}',
    reason: 'metric_name_invalid',
  },
  {
    name: 'metric name with a newline',
    payload: '{"metrics": {"a\\nb": 1}}',
    reason: 'metric_name_invalid',
  },
  // Device ids outside the contract and topics outside the device's own path never get this far:
  // the broker refuses them (security.e2e.spec.ts). A wrong channel or level count under its own
  // path is a dead letter (firmware-contract.e2e.spec.ts).
  {
    name: 'site with a space',
    topic: 'parks/science-city/gz auto/cnc_machine/cnc-x/telemetry',
    payload: '{"metrics": {"spindle_rpm": 1}}',
    reason: 'topic_invalid',
  },
  {
    name: 'oversized payload',
    payload: JSON.stringify({ metrics: { note: 'x'.repeat(300 * 1024) } }),
    reason: 'payload_too_large',
  },
  {
    name: 'a batch over 1,000 samples',
    payload: JSON.stringify({
      samples: Array.from({ length: 1001 }, () => ({ metrics: { spindle_rpm: 1 } })),
    }),
    reason: 'batch_too_large',
  },
  {
    name: 'timestamp a day in the future',
    payload: JSON.stringify({ ts: now + 86_400_000, metrics: { spindle_rpm: 1 } }),
    reason: 'timestamp_out_of_window',
  },
  {
    name: 'timestamp in seconds',
    payload: JSON.stringify({ ts: Math.floor(now / 1000), metrics: { spindle_rpm: 1 } }),
    reason: 'timestamp_out_of_window',
  },
  {
    name: 'not RFC 3339',
    payload: '{"ts": "yesterday", "metrics": {"spindle_rpm": 1}}',
    reason: 'timestamp_invalid',
  },
  {
    name: 'invalid UTF-8',
    payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    reason: 'payload_not_utf8',
  },
  {
    name: 'unknown park',
    topic: 'parks/mars/f1/cnc_machine/cnc-x/telemetry',
    payload: '{"metrics": {"spindle_rpm": 1}}',
    reason: 'unknown_park',
  },
  {
    name: 'unknown asset type',
    topic: 'parks/science-city/f1/toaster/t-1/telemetry',
    payload: '{"metrics": {"spindle_rpm": 1}}',
    reason: 'unknown_asset_type',
  },
  {
    name: 'asset type of another park',
    topic: 'parks/science-city/f1/ultra_low_freezer/ulf-1/telemetry',
    payload: '{"metrics": {"cabinet_temp_c": -80}}',
    reason: 'asset_type_not_in_park',
  },
  {
    name: 'an event with an unknown severity',
    topic: 'parks/science-city/f1/cnc_machine/cnc-x/event',
    payload: '{"code": "E1", "severity": "apocalyptic"}',
    reason: 'event_invalid',
  },
  // Stored fields are typed by the first write; a later number for the string field `note` is refused by InfluxDB.
  {
    name: 'a field whose type conflicts with what is stored',
    payload: '{"metrics": {"note": 5, "spindle_rpm": 7}}',
    reason: 'storage_rejected',
  },
  {
    name: 'a status that is neither online nor offline',
    topic: 'parks/science-city/f1/cnc_machine/cnc-x/status',
    payload: 'sleepy',
    reason: 'status_invalid',
  },
];

/** Valid strings that would break a hand-built line protocol: they must be stored exactly. */
const TRICKY_STRINGS = [
  'a b',
  'a,b',
  'a=b',
  'say "hi"',
  'back\\slash',
  'trailing\\',
  ' ,="\\ all at once',
];

describe('bad input: every malformed message is a dead letter with a reason; every valid one around it is stored', () => {
  let platform: Platform;
  let device: MqttClient;
  let seq = 0;
  let ts = now - 60_000;
  const valid: { ts: number; seq: number; note: string }[] = [];

  /** Publishes as the device the topic names (a device may publish only under its own id). */
  async function publishAs(topic: string, payload: string | Buffer): Promise<void> {
    const other = await mqtt.connectAsync(
      platform.mqttUrl,
      deviceCredentials(topic.split('/')[4] ?? ''),
    );
    await other.publishAsync(topic, payload, { qos: 1 });
    await other.endAsync();
  }

  async function publishValid(): Promise<void> {
    seq++;
    ts++;
    const note = TRICKY_STRINGS[seq % TRICKY_STRINGS.length]!;
    valid.push({ ts, seq, note });
    await device.publishAsync(
      GOOD_TOPIC,
      JSON.stringify({ ts, seq, metrics: { spindle_rpm: 1000 + seq, state: 'running', note } }),
      { qos: 1 },
    );
  }

  beforeAll(async () => {
    platform = await startPlatform();
    device = await mqtt.connectAsync(platform.mqttUrl, deviceCredentials('cnc-bad-input'));
    await publishValid();
    for (const bad of BAD) {
      if (bad.topic) await publishAs(bad.topic, bad.payload);
      else await device.publishAsync(GOOD_TOPIC, bad.payload, { qos: 1 });
      await publishValid();
    }
    // One field out of range, one with a control character: dropped, the rest of the sample kept.
    seq++;
    ts++;
    await device.publishAsync(
      GOOD_TOPIC,
      JSON.stringify({
        ts,
        seq,
        metrics: { spindle_rpm: -5, temperature_c: 41.5, note: 'line\nbreak' },
      }),
      { qos: 1 },
    );
    await device.endAsync();
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('stores every valid message, with line-protocol-hostile strings intact', async () => {
    await platform.waitForCount('cnc_machine', 'seq', valid.length + 1);
    const [series = []] = await platform.store.query(
      `SELECT "seq", "spindle_rpm", "note" FROM "cnc_machine" WHERE "device" = 'cnc-bad-input' AND "spindle_rpm" > 0`,
    );
    expect(series[0]?.values).toEqual(valid.map((v) => [v.ts, v.seq, 1000 + v.seq, v.note]));
  });

  it('records one dead letter per bad message, with the expected reason', async () => {
    await platform
      .waitForCount('ingest_reject', 'detail', BAD.length + 2, undefined, 10_000)
      .catch(() => undefined);
    const [series = []] = await platform.store.query(
      `SELECT COUNT("detail") FROM "ingest_reject" GROUP BY "reason"`,
    );
    const byReason = Object.fromEntries(series.map((s) => [s.tags?.['reason'], s.values[0]?.[1]]));
    const expected: Record<string, number> = { field_out_of_range: 1, field_control_characters: 1 };
    for (const bad of BAD) expected[bad.reason] = (expected[bad.reason] ?? 0) + 1;
    expect(byReason).toEqual(expected);
  });

  it('keeps the valid fields of a partly bad sample', async () => {
    const [series = []] = await platform.store.query(
      `SELECT "spindle_rpm", "temperature_c", "note" FROM "cnc_machine" WHERE "seq" = ${seq}`,
    );
    expect(series[0]?.values).toEqual([[ts, null, 41.5, null]]);
  });

  it('says why: the detail names the problem', async () => {
    const [series = []] = await platform.store.query(
      `SELECT "detail", "topic" FROM "ingest_reject" WHERE "reason" = ${quoteString('timestamp_out_of_window')}`,
    );
    expect(series[0]?.values.map((v) => String(v[1]))).toEqual([
      expect.stringContaining('in the future'),
      expect.stringContaining('looks like seconds'),
    ]);
  });

  it('counts dead letters by reason in /metrics', async () => {
    expect(
      await metricValue(
        platform.ingestionHttp,
        'parkpulse_ingest_rejects_total',
        '{reason="metric_name_invalid"}',
      ),
    ).toBe(6);
    expect(
      await metricValue(
        platform.ingestionHttp,
        'parkpulse_ingest_fields_dropped_total',
        '{reason="out_of_range"}',
      ),
    ).toBe(1);
  });
});
