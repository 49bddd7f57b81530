import { deviceCredentials, waitFor } from '@parkpulse/dev-services';
import { MEASUREMENT, RP_CONFIG_MEASUREMENT, quoteIdent } from '@parkpulse/influx';
import {
  ASSET_TYPES,
  DEVICE_ID_PATTERN,
  EVENT_CODE_PATTERN,
  EVENT_SEVERITIES,
  FIELD_DROP_REASONS,
  METRIC_NAME_PATTERN,
  PARK_IDS,
  REJECT_REASONS,
  RESERVED_NAMES,
  SITE_PATTERN,
  assetTypesOfPark,
  getAssetType,
  codePointLength,
  hasControlChars,
  type AssetTypeSpec,
  type MetricSpec,
} from '@parkpulse/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawMqttClient, httpBase, metricSamples, metricSum } from './support/raw-mqtt.js';
import { startPlatform, type Platform } from './support/platform.js';

/** Replay a failure with FUZZ_SEED=<seed> (printed at the start). */
const SEED = Number(process.env['FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const DEVICES = 120;
const PER_DEVICE = 86; // 10,320 messages
const HOSTILE_DEVICE_IDS = ['fz bad', 'fz,bad', 'fz/bad', 'fz+bad', 'fz😀', 'x'.repeat(70)];
const CONCURRENCY = 40;
const MAX_STRING = 256; // the contract's maxStringLength

/** mulberry32: small, fast, seeded. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  string(alphabet: string, min: number, max: number): string {
    const chars = [...alphabet];
    let out = '';
    for (let i = min + this.int(max - min + 1); i > 0; i--) out += this.pick(chars);
    return out;
  }
}

// ---- generators: valid json-v1 payloads, then mutated ----

const SITES = ['f1', 'gz-auto-parts', 'bldg-7', 'lab-3', 'dc-2'];
const HOSTILE_TEXT = [
  '',
  ' ',
  'a b',
  'a,b',
  'a=b',
  'say "hi"',
  'back\\slash',
  'tab\there',
  'nul\u0000byte',
  'line\nbreak',
  'del\u007f',
  'nel\u0085',
  'ls\u2028',
  'zero\u200bwidth',
  'rtl\u202eevil',
  'température',
  '温度',
  '😀🏭',
  'lone\ud800surrogate',
  'ＦＵＬＬ',
  'x'.repeat(MAX_STRING),
  'x'.repeat(MAX_STRING + 1),
  '__proto__',
  'constructor',
  '{"json":1}',
  '<script>',
  "'; DROP MEASUREMENT x; --",
];
const HOSTILE_NAMES = [
  ...HOSTILE_TEXT,
  'ts',
  'seq',
  'time',
  'Spindle_RPM',
  '1abc',
  'a-b',
  'a.b',
  'a'.repeat(63),
  'a'.repeat(64),
  'hasOwnProperty',
  'toString',
  'valueOf',
];
const WEIRD_VALUES: unknown[] = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '',
  null,
  true,
  false,
  [],
  [1, 2],
  {},
  { value: 1 },
  0,
  -0,
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER * 1e10,
  -1,
  1e15,
  '42',
  ' 42 ',
  'running',
];

function validValue(rng: Rng, spec: MetricSpec): unknown {
  switch (spec.kind) {
    case 'gauge':
    case 'counter': {
      const min = spec.min ?? 0;
      const max = spec.max ?? min + 1000;
      return Math.round((min + rng.next() * (max - min)) * 1000) / 1000;
    }
    case 'boolean':
      return rng.chance(0.5);
    case 'enum':
      return rng.pick(spec.values ?? ['x']);
  }
}

function validSample(rng: Rng, asset: AssetTypeSpec, ts: number, seq: number) {
  const metrics: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(asset.metrics))
    if (rng.chance(0.7)) metrics[name] = validValue(rng, spec);
  if (Object.keys(metrics).length === 0) {
    const [name, spec] = rng.pick(Object.entries(asset.metrics));
    metrics[name] = validValue(rng, spec);
  }
  return { ts, seq, metrics };
}

type Doc = Record<string, unknown> & { metrics?: Record<string, unknown> };

/** The sample's metrics when they are still an object (an earlier mutation may have replaced them). */
function metricsOf(doc: Doc): Record<string, unknown> | undefined {
  const m: unknown = doc.metrics;
  return m !== null && typeof m === 'object' && !Array.isArray(m)
    ? (m as Record<string, unknown>)
    : undefined;
}

/** Object-level mutations of a sample. */
const MUTATORS: ((rng: Rng, doc: Doc) => void)[] = [
  // type swap of a metric
  (rng, doc) => {
    const m = metricsOf(doc) ?? {};
    const keys = Object.keys(m);
    if (keys.length) m[rng.pick(keys)] = rng.pick(WEIRD_VALUES);
  },
  // a metric far out of its physical range
  (rng, doc) => {
    const m = metricsOf(doc) ?? {};
    const keys = Object.keys(m).filter((k) => typeof m[k] === 'number');
    if (keys.length) m[rng.pick(keys)] = rng.pick([1e9, -1e9, 1e300, -273.16, 1e6 + 0.5]);
  },
  // a hostile metric name
  (rng, doc) => {
    const m = metricsOf(doc);
    if (m) m[rng.pick(HOSTILE_NAMES)] = rng.pick([1, 'x', true]);
  },
  // a hostile string value
  (rng, doc) => {
    const m = metricsOf(doc);
    if (m) m[rng.pick(['note', 'label', 'state', 'mode'])] = rng.pick(HOSTILE_TEXT);
  },
  // timestamps
  (rng, doc) => {
    doc['ts'] = rng.pick<unknown>([
      Math.floor(Date.now() / 1000),
      Date.now() + 86_400_000,
      Date.now() - 30 * 86_400_000,
      -1,
      0,
      1e20,
      Date.now() + 0.5,
      new Date().toISOString(),
      '2026-13-45T25:61:00Z',
      'yesterday',
      null,
      true,
      [Date.now()],
    ]);
  },
  // no timestamp (receive time)
  (_rng, doc) => {
    delete doc['ts'];
  },
  // seq
  (rng, doc) => {
    doc['seq'] = rng.pick<unknown>([-1, 1.5, 2 ** 60, '7', null, {}, NaN]);
  },
  // metrics not an object / missing / empty
  (rng, doc) => {
    const v = rng.pick<unknown>([[], null, 'metrics', 5, {}, undefined]);
    if (v === undefined) delete doc.metrics;
    else (doc as Record<string, unknown>)['metrics'] = v;
  },
  // null values (skipped by the contract)
  (_rng, doc) => {
    const m = metricsOf(doc) ?? {};
    for (const k of Object.keys(m)) m[k] = null;
  },
  // extra top-level keys, prototype-looking ones included
  (rng, doc) => {
    doc[rng.pick(['__proto__', 'constructor', 'extra', 'Metrics', 'samples_'])] = { polluted: 1 };
  },
];

function batchOf(rng: Rng, asset: AssetTypeSpec, seq: number): unknown {
  const n = rng.pick([0, 1, 2, 5, 20, 1001]);
  const samples: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const s: Doc = validSample(
      rng,
      asset,
      Date.now() - 60_000 - rng.int(3_600_000),
      seq * 10_000 + i,
    );
    if (rng.chance(0.2)) rng.pick(MUTATORS)(rng, s);
    samples.push(rng.chance(0.02) ? rng.pick(WEIRD_VALUES) : s);
  }
  return rng.chance(0.05) ? { samples: rng.pick(WEIRD_VALUES) } : { samples };
}

/** Serialised text-level mutations (what a broken encoder sends). */
function textual(rng: Rng, json: string): string {
  switch (rng.int(4)) {
    case 0: {
      // duplicated keys: the last one wins in JSON.parse
      const key = rng.pick(['spindle_rpm', 'temperature_c', 'state', 'ts', 'metrics']);
      return json
        .replace('"metrics":{', `"metrics":{"${key}":"dup",`)
        .replace(/^\{/, `{"${key}":1,`);
    }
    case 1: {
      // deep nesting
      const depth = rng.pick([10, 100, 1000, 10_000, 100_000]);
      return `{"metrics":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    }
    case 2:
      // literals JSON does not have
      return json.replace(
        /:\s*-?\d+(\.\d+)?/,
        `:${rng.pick(['NaN', 'Infinity', '-Infinity', '1e999', '0x10', '01', '.5'])}`,
      );
    default:
      return `${json}${rng.pick(['', ' ', '\n', ',', '}', 'garbage', '\u0000'])}`;
  }
}

/** Byte-level mutations. */
function bytewise(rng: Rng, payload: Buffer): Buffer {
  const b = Buffer.from(payload);
  switch (rng.int(5)) {
    case 0: // bit flips
      for (let i = 1 + rng.int(8); i > 0 && b.length > 0; i--)
        b[rng.int(b.length)]! ^= 1 << rng.int(8);
      return b;
    case 1: // truncation
      return b.subarray(0, rng.int(b.length + 1));
    case 2: // invalid UTF-8 inserted
      return Buffer.concat([
        b.subarray(0, rng.int(b.length + 1)),
        Buffer.from(
          rng.pick([
            [0xff],
            [0xc0, 0x80],
            [0xed, 0xa0, 0x80],
            [0x80],
            [0xf8, 0x88, 0x80, 0x80, 0x80],
          ]),
        ),
        b.subarray(rng.int(b.length + 1)),
      ]);
    case 3: // random bytes
      return Buffer.from(Array.from({ length: rng.int(300) }, () => rng.int(256)));
    default:
      return Buffer.alloc(0);
  }
}

function telemetryPayload(rng: Rng, asset: AssetTypeSpec, seq: number): Buffer {
  const roll = rng.next();
  if (roll < 0.0004) return Buffer.from(JSON.stringify({ metrics: { note: 'x'.repeat(300_000) } })); // ingestion's limit
  if (roll < 0.0006) return Buffer.alloc(1_200_000, 0x20); // above the broker's MAX_PACKET_BYTES
  let doc: unknown;
  if (rng.chance(0.1)) doc = batchOf(rng, asset, seq);
  else {
    const s: Doc = validSample(rng, asset, Date.now() - 60_000 - rng.int(3_600_000), seq);
    for (let k = rng.pick([0, 0, 1, 1, 1, 2, 3]); k > 0; k--) rng.pick(MUTATORS)(rng, s);
    doc = s;
  }
  let json = JSON.stringify(doc) ?? 'null';
  if (rng.chance(0.15)) json = textual(rng, json);
  const bytes = Buffer.from(json);
  return rng.chance(0.1) ? bytewise(rng, bytes) : bytes;
}

function statusPayload(rng: Rng): Buffer {
  const text = rng.pick([
    'online',
    'offline',
    'ONLINE',
    'on',
    '',
    ' online',
    'online\n',
    '{"online":true}',
    'true',
    '1',
  ]);
  return rng.chance(0.2) ? bytewise(rng, Buffer.from(text)) : Buffer.from(text);
}

function eventPayload(rng: Rng): Buffer {
  const doc: Record<string, unknown> = {
    ts: Date.now() - rng.int(60_000),
    code: rng.pick(['E1', 'SPINDLE_OVERHEAT', 'door.open', 'a'.repeat(65), 'bad code', '']),
    severity: rng.pick([...EVENT_SEVERITIES, 'apocalyptic', 'INFO', '']),
    message: rng.pick(HOSTILE_TEXT),
  };
  if (rng.chance(0.2)) delete doc[rng.pick(['ts', 'code', 'severity', 'message'])];
  const bytes = Buffer.from(JSON.stringify(doc));
  return rng.chance(0.1) ? bytewise(rng, bytes) : bytes;
}

interface FuzzMessage {
  readonly topic: string;
  readonly payload: Buffer;
}

/** A message of `deviceId`: its own topic (level 5 = its id), park/site/type levels fuzzed. */
function shapedMessage(rng: Rng, deviceId: string, seq: number): FuzzMessage {
  const park = rng.pick(PARK_IDS);
  let asset = rng.pick(assetTypesOfPark(park));
  let parkLevel: string = park;
  let siteLevel = rng.pick(SITES);
  let typeLevel = asset.id;
  if (rng.chance(0.12)) {
    switch (rng.int(3)) {
      case 0:
        parkLevel = rng.pick(['mars', 'Science-City', 'science_city', ...HOSTILE_TEXT]);
        break;
      case 1:
        siteLevel = rng.pick([
          'A',
          'a'.repeat(33),
          rng.string('abc-_.XYZ09 ', 1, 40),
          ...HOSTILE_TEXT,
        ]);
        break;
      default:
        typeLevel = rng.pick([
          'toaster',
          'CNC_MACHINE',
          ...ASSET_TYPES.map((a) => a.id),
          ...HOSTILE_TEXT,
        ]);
        asset = getAssetType(typeLevel) ?? asset;
    }
  }
  const channel = rng.pick([
    'telemetry',
    'telemetry',
    'telemetry',
    'telemetry',
    'telemetry',
    'status',
    'event',
  ]);
  const topic = `parks/${parkLevel}/${siteLevel}/${typeLevel}/${deviceId}/${channel}`;
  const payload =
    channel === 'telemetry'
      ? telemetryPayload(rng, asset, seq)
      : channel === 'status'
        ? statusPayload(rng)
        : eventPayload(rng);
  return { topic, payload };
}

/** Topics that break the contract's shape: the broker's ACL refuses them. */
function brokenTopic(rng: Rng, deviceId: string): string {
  return rng.pick([
    `parks/science-city/f1/cnc_machine/${deviceId}`,
    `parks/science-city/f1/cnc_machine/${deviceId}/telemetry/extra`,
    `parks/science-city/f1/cnc_machine/someone-else/telemetry`,
    `parks/science-city/f1/cnc_machine/${deviceId}/cmd`,
    `parks/science-city/f1/cnc_machine/${deviceId}/TELEMETRY`,
    `parks/science-city//cnc_machine/${deviceId}/telemetry`,
    `parks//f1/cnc_machine/${deviceId}/telemetry`,
    `parks/science-city/f1/cnc_machine/${deviceId}/`,
    `Parks/science-city/f1/cnc_machine/${deviceId}/telemetry`,
    `park/science-city/f1/cnc_machine/${deviceId}/telemetry`,
    `parks/+/f1/cnc_machine/${deviceId}/telemetry`,
    `parks/science-city/#`,
    `parks`,
    `$SYS/fuzz`,
    `/parks/science-city/f1/cnc_machine/${deviceId}/telemetry`,
    `elsewhere/${deviceId}`,
    `${'a/'.repeat(120)}b`,
    `parks/${'x'.repeat(2000)}/f1/cnc_machine/${deviceId}/telemetry`,
    rng.string('ab/+#$ \u0000é', 1, 30),
  ]);
}

function messagesOf(rng: Rng, deviceId: string): FuzzMessage[] {
  return Array.from({ length: PER_DEVICE }, (_, i) =>
    rng.chance(0.06)
      ? { topic: brokenTopic(rng, deviceId), payload: telemetryPayload(rng, ASSET_TYPES[0]!, i) }
      : shapedMessage(rng, deviceId, i + 1),
  );
}

/** Whether the ingestion (subscribed to parks/#) gets a message the broker accepted on `topic`. */
const routedToIngestion = (topic: string) => topic === 'parks' || topic.startsWith('parks/');

interface Outcome {
  /** PUBACKed and under parks/#: the ingestion's. */
  delivered: number;
  /** PUBACKed, no subscriber. */
  unrouted: number;
  /** The broker closed the connection instead of a PUBACK (ACL, packet size, protocol). */
  refused: number;
  /** Never sent: the device's CONNECT was refused. */
  connectRefused: number;
}

async function runDevice(port: number, deviceId: string, messages: FuzzMessage[], out: Outcome) {
  let client: RawMqttClient | undefined;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (!client || client.isClosed) {
      client = await RawMqttClient.connect({ port, ...deviceCredentials(deviceId) }).catch(
        () => undefined,
      );
      if (!client) {
        out.connectRefused += messages.length - i;
        return;
      }
    }
    const answered = await client.publish1(m.topic, m.payload).then(
      () => true,
      () => false,
    );
    if (!answered) out.refused++;
    else if (routedToIngestion(m.topic)) out.delivered++;
    else out.unrouted++;
  }
  await client?.end();
}

// ---- what InfluxDB may contain ----

const TELEMETRY_TAGS = ['device', 'park', 'site'];
const DEVICE_TAGS = ['asset_type', 'device', 'park', 'site'];
const ALLOWED_TAGS: Record<string, string[]> = {
  [MEASUREMENT.status]: DEVICE_TAGS,
  [MEASUREMENT.event]: [...DEVICE_TAGS, 'code', 'severity'],
  [MEASUREMENT.ledger]: DEVICE_TAGS,
  [MEASUREMENT.reject]: ['park', 'reason'],
  [MEASUREMENT.parkPresence]: ['instance', 'park'],
  platform_ingestion: ['instance'],
  platform_broker: ['broker'],
  [RP_CONFIG_MEASUREMENT]: ['idx'], // the retention tiers, written by the schema set-up
};
const TAG_RULES: Record<string, (v: string) => boolean> = {
  park: (v) => (PARK_IDS as readonly string[]).includes(v),
  site: (v) => SITE_PATTERN.test(v),
  device: (v) => DEVICE_ID_PATTERN.test(v),
  asset_type: (v) => getAssetType(v) !== undefined,
  severity: (v) => (EVENT_SEVERITIES as readonly string[]).includes(v),
  code: (v) => EVENT_CODE_PATTERN.test(v),
  reason: (v) =>
    (REJECT_REASONS as readonly string[]).includes(v) ||
    (FIELD_DROP_REASONS as readonly string[]).some((r) => v === `field_${r}`),
};
const INFLUX_TYPE: Record<MetricSpec['kind'], string> = {
  gauge: 'float',
  counter: 'float',
  boolean: 'boolean',
  enum: 'string',
};

describe(`fuzz: 10,000+ mutated payloads and topics through the real broker and ingestion (seed ${SEED})`, () => {
  let platform: Platform;
  let ingestionPid: number | undefined;
  const out: Outcome = { delivered: 0, unrouted: 0, refused: 0, connectRefused: 0 };
  let total = 0;
  let messagesDelta = 0;
  let acksDelta = 0;
  let rejectsDelta: Record<string, number> = {};
  const ingestionChannels = async () => {
    const s = await metricSamples(platform.ingestionHttp, 'parkpulse_ingest_messages_total');
    return Object.entries(s)
      .filter(([labels]) => !labels.includes('"sys"'))
      .reduce((a, [, v]) => a + v, 0);
  };

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays this run)`);
    platform = await startPlatform({ brokerEnv: { STATS_INTERVAL_MS: '0' } });
    ingestionPid = platform.ingestion.pid;
    const rng = new Rng(SEED);
    const devices = [
      ...Array.from({ length: DEVICES }, (_, i) => `fz-${i}`),
      ...HOSTILE_DEVICE_IDS,
    ].map((id) => ({ id, messages: messagesOf(rng, id) }));
    total = devices.reduce((n, d) => n + d.messages.length, 0);

    const before = {
      messages: await ingestionChannels(),
      acks: await metricSum(platform.ingestionHttp, 'parkpulse_ingest_acks_total'),
      rejects: await metricSamples(platform.ingestionHttp, 'parkpulse_ingest_rejects_total'),
    };
    const queue = [...devices];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let d = queue.shift(); d; d = queue.shift())
          await runDevice(platform.mqttPort, d.id, d.messages, out);
      }),
    );
    await waitFor(
      `the ingestion to take and acknowledge ${out.delivered} messages`,
      async () =>
        (messagesDelta = (await ingestionChannels()) - before.messages) >= out.delivered &&
        (acksDelta =
          (await metricSum(platform.ingestionHttp, 'parkpulse_ingest_acks_total')) - before.acks) >=
          messagesDelta,
      90_000,
      250,
    ).catch(() => undefined); // the assertions say what is missing
    const after = await metricSamples(platform.ingestionHttp, 'parkpulse_ingest_rejects_total');
    rejectsDelta = Object.fromEntries(
      Object.entries(after)
        .map(([labels, v]): [string, number] => [
          /reason="([^"]+)"/.exec(labels)?.[1] ?? labels,
          v - (before.rejects[labels] ?? 0),
        ])
        .filter(([, v]) => v > 0),
    );
    const rejected = Object.values(rejectsDelta).reduce((a, b) => a + b, 0);
    console.log(
      `fuzz: ${total} messages from ${devices.length} devices — delivered to the ingestion ` +
        `${out.delivered} (stored ${out.delivered - rejected}, dead letters ${rejected}), ` +
        `accepted without subscriber ${out.unrouted}, refused by the broker ${out.refused}, ` +
        `device refused at CONNECT ${out.connectRefused}; broker publish refusals ` +
        `${await metricSum(httpBase(platform.broker.healthUrl), 'parkpulse_broker_publish_refused_total')}`,
    );
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('sent at least 10,000 messages, each acknowledged or refused by the broker', () => {
    expect(total).toBeGreaterThanOrEqual(10_000);
    expect(out.delivered + out.unrouted + out.refused + out.connectRefused).toBe(total);
    expect(out.delivered).toBeGreaterThan(total / 2);
  });

  it('the ingestion never crashed: same process, healthy', async () => {
    expect(platform.ingestion.pid).toBe(ingestionPid);
    expect((await fetch(platform.ingestion.healthUrl)).status).toBe(200);
    expect((await fetch(platform.broker.healthUrl)).status).toBe(200);
  });

  it('accounts for every delivered message: acknowledged, and stored or a dead letter', async () => {
    expect(messagesDelta).toBe(out.delivered);
    expect(acksDelta).toBe(messagesDelta);
    // Each dead letter is in InfluxDB too, one point per message, with the same reason.
    const [series = []] = await platform.store.query(
      `SELECT COUNT("detail") FROM "ingest_reject" WHERE "reason" !~ /^field_/ GROUP BY "reason"`,
    );
    const stored = Object.fromEntries(
      series.map((s) => [s.tags?.['reason'] ?? '?', Number(s.values[0]?.[1])]),
    );
    expect(stored).toEqual(rejectsDelta);
  });

  it('stored no malformed point: measurements, tags and fields all within the contract', async () => {
    const problems: string[] = [];
    const [measurements = []] = await platform.store.query('SHOW MEASUREMENTS');
    const names = (measurements[0]?.values ?? []).map((v) => String(v[0]));
    expect(names.length).toBeGreaterThan(3);
    for (const m of names) {
      const asset = getAssetType(m);
      const allowedTags = asset ? TELEMETRY_TAGS : ALLOWED_TAGS[m];
      if (!allowedTags) {
        problems.push(`measurement ${JSON.stringify(m)} is not in the contract`);
        continue;
      }
      const [tagKeys = []] = await platform.store.query(`SHOW TAG KEYS FROM ${quoteIdent(m)}`);
      for (const [key] of tagKeys[0]?.values ?? []) {
        const tag = String(key);
        if (!allowedTags.includes(tag)) problems.push(`${m}: tag ${JSON.stringify(tag)}`);
        const rule = TAG_RULES[tag];
        if (!rule || m.startsWith('platform_') || m === MEASUREMENT.parkPresence) continue;
        const [values = []] = await platform.store.query(
          `SHOW TAG VALUES FROM ${quoteIdent(m)} WITH KEY = ${quoteIdent(tag)}`,
        );
        for (const v of values[0]?.values ?? []) {
          const value = String(v[1]);
          const ok =
            rule(value) || (m === MEASUREMENT.reject && tag === 'park' && value === 'unknown');
          if (!ok) problems.push(`${m}: ${tag}=${JSON.stringify(value)}`);
          if (asset && tag === 'park' && !asset.parks.includes(value as never))
            problems.push(`${m}: not an asset type of park ${value}`);
        }
      }
      if (!asset) continue;
      const [fieldKeys = []] = await platform.store.query(`SHOW FIELD KEYS FROM ${quoteIdent(m)}`);
      for (const [key, type] of fieldKeys[0]?.values ?? []) {
        const field = String(key);
        const spec = Object.hasOwn(asset.metrics, field) ? asset.metrics[field] : undefined;
        if (field === 'seq') {
          if (type !== 'float') problems.push(`${m}.seq is ${String(type)}`);
          const [r = []] = await platform.store.query(`SELECT MIN("seq") FROM ${quoteIdent(m)}`);
          if (Number(r[0]?.values[0]?.[1]) < 0) problems.push(`${m}.seq below 0`);
          continue;
        }
        if (!METRIC_NAME_PATTERN.test(field) || RESERVED_NAMES.has(field))
          problems.push(`${m}: field name ${JSON.stringify(field)}`);
        if (spec) {
          if (type !== INFLUX_TYPE[spec.kind]) problems.push(`${m}.${field} is ${String(type)}`);
          if (spec.kind === 'gauge' || spec.kind === 'counter') {
            const [r = []] = await platform.store.query(
              `SELECT MIN(${quoteIdent(field)}), MAX(${quoteIdent(field)}) FROM ${quoteIdent(m)}`,
            );
            const [, min, max] = (r[0]?.values[0] ?? []).map(Number);
            if (spec.min !== undefined && min! < spec.min) problems.push(`${m}.${field} = ${min}`);
            if (spec.max !== undefined && max! > spec.max) problems.push(`${m}.${field} = ${max}`);
          }
          if (spec.kind === 'enum') {
            const [r = []] = await platform.store.query(
              `SELECT DISTINCT(${quoteIdent(field)}) FROM ${quoteIdent(m)}`,
            );
            for (const v of r[0]?.values ?? [])
              if (!spec.values?.includes(String(v[1])))
                problems.push(`${m}.${field} = ${JSON.stringify(v[1])}`);
          }
        } else if (type === 'string') {
          const [r = []] = await platform.store.query(
            `SELECT ${quoteIdent(field)} FROM ${quoteIdent(m)}`,
          );
          for (const v of r[0]?.values ?? []) {
            const s = String(v[1]);
            if (codePointLength(s) > MAX_STRING || hasControlChars(s))
              problems.push(`${m}.${field} = ${JSON.stringify(s.slice(0, 40))}…`);
          }
        } else if (type !== 'float' && type !== 'boolean') {
          problems.push(`${m}.${field} is ${String(type)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
