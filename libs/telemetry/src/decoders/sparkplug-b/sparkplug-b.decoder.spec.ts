import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../limits.js';
import type { FieldDrop, RawSample } from '../../model.js';
import type { DecodeContext } from '../decoder.js';
import { normaliseMetricName } from './names.js';
import {
  decodeSparkplugPayload,
  encodeSparkplugPayload,
  SPARKPLUG_DATATYPES as D,
  type MetricToEncode,
} from './payload.js';
import { PAYLOAD_TYPE } from './schema.js';
import { sparkplugBDecoder } from './sparkplug-b.decoder.js';
import { parseSparkplugTopic } from './topic.js';
import { fieldValue, shortestFloat32 } from './values.js';

const NOW = Date.UTC(2026, 0, 1);

function decode(metrics: MetricToEncode[], timestamp: number | null = NOW - 1000) {
  const dropped: FieldDrop[] = [];
  const ctx: DecodeContext = { receivedAt: NOW, limits: DEFAULT_LIMITS, dropped };
  const payload = encodeSparkplugPayload({
    ...(timestamp !== null ? { timestamp } : {}),
    seq: 1,
    metrics,
  });
  const result = sparkplugBDecoder.decode(payload, ctx);
  return { result, dropped };
}

function samples(metrics: MetricToEncode[], timestamp: number | null = NOW - 1000): RawSample[] {
  const { result } = decode(metrics, timestamp);
  if (!result.ok) throw result.error;
  return result.value;
}

describe('sparkplugBDecoder', () => {
  it('is named sparkplug-b', () => expect(sparkplugBDecoder.name).toBe('sparkplug-b'));

  it.each([
    ['Int8', D.Int8, -128, -128],
    ['Int8 max', D.Int8, 127, 127],
    ['Int16', D.Int16, -32768, -32768],
    ['Int32', D.Int32, -2147483648, -2147483648],
    ['Int64', D.Int64, -9007199254740991n, -9007199254740991],
    ['Int64 −1', D.Int64, -1n, -1],
    ['UInt8', D.UInt8, 255, 255],
    ['UInt16', D.UInt16, 65535, 65535],
    ['UInt32', D.UInt32, 4294967295, 4294967295],
    ['UInt64', D.UInt64, 18446744073709551615n, 18446744073709552000],
    ['Float', D.Float, 41.2, 41.2],
    ['Double', D.Double, 0.1 + 0.2, 0.30000000000000004],
    ['Boolean', D.Boolean, true, true],
    ['String', D.String, 'running', 'running'],
    ['Text', D.Text, 'a longer text', 'a longer text'],
    [
      'UUID',
      D.UUID,
      '0f8fad5b-d9cb-469f-a165-70867728950e',
      '0f8fad5b-d9cb-469f-a165-70867728950e',
    ],
    ['DateTime', D.DateTime, NOW - 5, NOW - 5],
  ])('maps %s to a field', (_label, datatype, value, expected) => {
    expect(samples([{ name: 'v', datatype, value }])).toEqual([
      { ts: NOW - 1000, tsFromDevice: true, metrics: { v: expected } },
    ]);
  });

  it.each([
    ['Bytes', D.Bytes, 'unsupported_datatype', 'Bytes has no field mapping'],
    ['File', D.File, 'unsupported_datatype', 'File has no field mapping'],
  ])('drops %s with a reason', (_label, datatype, reason, detail) => {
    const { result, dropped } = decode([
      { name: 'blob', datatype, value: new Uint8Array([1, 2]) },
      { name: 'ok', datatype: D.Int32, value: 1 },
    ]);
    expect(result.ok && result.value[0]?.metrics).toEqual({ ok: 1 });
    expect(dropped).toEqual([{ metric: 'blob', reason, detail }]);
  });

  it('drops a DataSet, and an array, as unsupported_datatype', () => {
    const bytes = PAYLOAD_TYPE.encode(
      PAYLOAD_TYPE.fromObject({
        timestamp: NOW,
        metrics: [
          {
            name: 'table',
            datatype: D.DataSet,
            dataset_value: { num_of_columns: 1, columns: ['a'], types: [D.Int32], rows: [] },
          },
          { name: 'arr', datatype: D.Int32Array, bytes_value: Buffer.from([1, 0, 0, 0]) },
        ],
      }),
    ).finish();
    const dropped: FieldDrop[] = [];
    sparkplugBDecoder.decode(Buffer.from(bytes), {
      receivedAt: NOW,
      limits: DEFAULT_LIMITS,
      dropped,
    });
    expect(dropped.map((d) => [d.metric, d.reason])).toEqual([
      ['table', 'unsupported_datatype'],
      ['arr', 'unsupported_datatype'],
    ]);
  });

  it('flattens a template instance into {metric}/{member}, skips definitions', () => {
    const bytes = PAYLOAD_TYPE.encode(
      PAYLOAD_TYPE.fromObject({
        timestamp: NOW,
        metrics: [
          {
            name: 'Motor',
            datatype: D.Template,
            template_value: {
              is_definition: false,
              template_ref: 'MotorType',
              metrics: [
                { name: 'Speed RPM', datatype: D.Int32, int_value: 1450 },
                { name: 'Amps', datatype: D.Float, float_value: 3.5 },
              ],
            },
          },
          {
            name: 'MotorType',
            datatype: D.Template,
            template_value: {
              is_definition: true,
              metrics: [{ name: 'Speed RPM', datatype: D.Int32 }],
            },
          },
        ],
      }),
    ).finish();
    const result = sparkplugBDecoder.decode(Buffer.from(bytes), {
      receivedAt: NOW,
      limits: DEFAULT_LIMITS,
    });
    expect(result.ok && result.value).toEqual([
      { ts: NOW, tsFromDevice: true, metrics: { motor_speed_rpm: 1450, motor_amps: 3.5 } },
    ]);
  });

  it('skips null metrics and the session metrics (bdSeq, Node Control/*)', () => {
    expect(
      samples([
        { name: 'bdSeq', datatype: D.Int64, value: 4 },
        { name: 'Node Control/Rebirth', datatype: D.Boolean, value: false },
        { name: 'gone', datatype: D.Double, value: null },
        { name: 'kept', datatype: D.Double, value: 1 },
      ]),
    ).toEqual([{ ts: NOW - 1000, tsFromDevice: true, metrics: { kept: 1 } }]);
  });

  it('one sample per timestamp, metric timestamps first, in time order', () => {
    expect(
      samples([
        { name: 'a', datatype: D.Double, value: 2, timestamp: NOW - 10, isHistorical: true },
        { name: 'a', datatype: D.Double, value: 1, timestamp: NOW - 20, isHistorical: true },
        { name: 'b', datatype: D.Double, value: 3 },
      ]),
    ).toEqual([
      { ts: NOW - 1000, tsFromDevice: true, metrics: { b: 3 } },
      { ts: NOW - 20, tsFromDevice: true, metrics: { a: 1 } },
      { ts: NOW - 10, tsFromDevice: true, metrics: { a: 2 } },
    ]);
  });

  it('uses the receive time when the payload has no timestamp', () => {
    expect(samples([{ name: 'a', datatype: D.Double, value: 1 }], null)).toEqual([
      { ts: NOW, tsFromDevice: false, metrics: { a: 1 } },
    ]);
  });

  it('refuses a timestamp outside the window, as contract v1', () => {
    const { result } = decode([
      { name: 'a', datatype: D.Double, value: 1, timestamp: NOW + 3_600_000 },
    ]);
    expect(!result.ok && result.error.reason).toBe('timestamp_out_of_window');
  });

  it('drops a metric known only by its alias (that needs the host)', () => {
    const { dropped } = decode([{ alias: 7, datatype: D.Double, value: 1 }]);
    expect(dropped).toEqual([
      {
        metric: 'alias 7',
        reason: 'unknown_alias',
        detail: 'a metric without a name needs the BIRTH that declared its alias',
      },
    ]);
  });

  describe('bad input', () => {
    it.each([
      ['JSON', Buffer.from('{"metrics": {"a": 1}}')],
      ['a wrong wire type', Buffer.from([0x0f, 0x01])],
      [
        'random bytes',
        Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      ],
    ])('refuses %s as payload_not_protobuf', (_label, bytes) => {
      const result = decodeSparkplugPayload(bytes);
      expect(!result.ok && result.error.reason).toBe('payload_not_protobuf');
    });

    it('refuses truncated protobuf at every cut', () => {
      const full = encodeSparkplugPayload({
        timestamp: NOW,
        seq: 3,
        metrics: [{ name: 'Motor/Speed RPM', alias: 1, datatype: D.Double, value: 1450.5 }],
      });
      for (let cut = 1; cut < full.length; cut++) {
        const result = decodeSparkplugPayload(full.subarray(0, cut));
        // a cut at a field boundary is a shorter valid message; every other cut is refused
        if (!result.ok) expect(result.error.reason).toMatch(/^payload_(not_protobuf|invalid)$/);
      }
      const inField = decodeSparkplugPayload(full.subarray(0, full.length - 3));
      expect(!inField.ok && inField.error.reason).toBe('payload_not_protobuf');
    });

    it('refuses a seq beyond 255 and a timestamp beyond 2^53', () => {
      const seq = decodeSparkplugPayload(encodeSparkplugPayload({ seq: 256, metrics: [] }));
      expect(!seq.ok && seq.error.detail).toBe('payload.seq 256 is outside 0–255');
      const ts = decodeSparkplugPayload(
        encodeSparkplugPayload({ timestamp: (2n ** 60n) as unknown as number, metrics: [] }),
      );
      expect(!ts.ok && ts.error.reason).toBe('payload_invalid');
    });

    it('drops an unknown datatype with unknown_datatype', () => {
      const bytes = PAYLOAD_TYPE.encode(
        PAYLOAD_TYPE.fromObject({
          metrics: [
            { name: 'x', datatype: 99, int_value: 1 },
            { name: 'y', datatype: 0, int_value: 1 },
          ],
        }),
      ).finish();
      const dropped: FieldDrop[] = [];
      sparkplugBDecoder.decode(Buffer.from(bytes), {
        receivedAt: NOW,
        limits: DEFAULT_LIMITS,
        dropped,
      });
      expect(dropped).toEqual([
        {
          metric: 'x',
          reason: 'unknown_datatype',
          detail: 'datatype 99 is not a Sparkplug datatype',
        },
        {
          metric: 'y',
          reason: 'unknown_datatype',
          detail: 'datatype 0 is not a Sparkplug datatype',
        },
      ]);
    });

    it('reads an integer datatype from either integer member (Tahu puts UInt32 in long_value)', () => {
      expect(fieldValue(D.UInt32, { kind: 'long', value: 4294967295n })).toBe(4294967295);
      expect(fieldValue(D.UInt32, { kind: 'int', value: 4294967295 })).toBe(4294967295);
      expect(fieldValue(D.Int8, { kind: 'long', value: 2n ** 64n - 1n })).toBe(-1);
      expect(fieldValue(D.Int64, { kind: 'int', value: 5 })).toBe(5);
      expect(fieldValue(D.Double, { kind: 'float', value: Math.fround(0.1) })).toBe(0.1);
    });

    it('drops a value in the wrong oneof member as wrong_type', () => {
      expect(fieldValue(D.Int32, { kind: 'string', value: '5' })).toEqual({
        reason: 'wrong_type',
        detail: 'Int32 must be carried in int_value or long_value, got string_value',
      });
    });

    it.each([
      ['a newline', 'temp\nevil=1', 'name contains control characters'],
      ['a NUL', 'a\u0000b', 'name contains control characters'],
      ['nothing left', '温度', 'nothing of the name is left in [a-z0-9_]'],
      ['too long', 'x'.repeat(300), 'name of 300 characters, at most 256'],
      [
        'too long normalised',
        'Motor/'.repeat(20),
        expect.stringContaining('longer than 63 characters'),
      ],
      ['reserved', 'Time', '"time" is reserved by the contract'],
    ])('refuses a metric name with %s (hostile to line protocol)', (_label, name, detail) => {
      expect(normaliseMetricName(name)).toEqual({ reason: 'metric_name_invalid', detail });
    });

    it('makes names with line-protocol syntax safe', () => {
      expect(normaliseMetricName('a b,c=d"e\\f')).toBe('a_b_c_d_e_f');
      expect(normaliseMetricName('Motor/Speed RPM')).toBe('motor_speed_rpm');
      expect(normaliseMetricName('SpindleSpeed')).toBe('spindle_speed');
      expect(normaliseMetricName('Power kW')).toBe('power_kw');
      expect(normaliseMetricName('2nd Stage/Pressure')).toBe('m_2nd_stage_pressure');
    });

    it('a seeded fuzz pass over mutated payloads never throws', () => {
      let seed = 12345;
      const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
      const base = encodeSparkplugPayload({
        timestamp: NOW,
        seq: 9,
        metrics: [
          { name: 'Motor/Speed RPM', alias: 1, datatype: D.Int32, value: 1450 },
          { name: 'Motor/On', alias: 2, datatype: D.Boolean, value: true },
          { name: 'Label', alias: 3, datatype: D.String, value: 'line 1' },
          { name: 'Energy', alias: 4, datatype: D.UInt64, value: 123456789n },
        ],
      });
      let refused = 0;
      for (let i = 0; i < 5000; i++) {
        const bytes = Buffer.from(base);
        const edits = 1 + Math.floor(rand() * 4);
        for (let e = 0; e < edits; e++)
          bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
        const cut = rand() < 0.2 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes;
        const dropped: FieldDrop[] = [];
        const result = sparkplugBDecoder.decode(cut, {
          receivedAt: NOW,
          limits: DEFAULT_LIMITS,
          dropped,
        });
        if (!result.ok) refused++;
      }
      expect(refused).toBeGreaterThan(0);
    });
  });
});

describe('shortestFloat32', () => {
  it.each([41.2, 0.1, 1e-7, 3.4e38, -2.5, 12345.678])('stores %d as written', (v) => {
    expect(shortestFloat32(Math.fround(v))).toBe(v);
  });
});

describe('parseSparkplugTopic', () => {
  it.each([
    ['spBv1.0/g/NBIRTH/n', { kind: 'node', group: 'g', verb: 'NBIRTH', node: 'n' }],
    ['spBv1.0/g/DDATA/n/d', { kind: 'device', group: 'g', verb: 'DDATA', node: 'n', device: 'd' }],
    ['spBv1.0/STATE/host-1', { kind: 'state', hostId: 'host-1' }],
  ])('reads %s', (topic, expected) => {
    const parsed = parseSparkplugTopic(topic);
    expect(parsed.ok && parsed.value).toEqual(expected);
  });

  it.each([
    'spAv1.0/g/NBIRTH/n',
    'spBv1.0/g/NBIRTH/n/d',
    'spBv1.0/g/DDATA/n',
    'spBv1.0/g/XDATA/n',
    'spBv1.0//NDATA/n',
    'spBv1.0/g/NDATA/+',
    'spBv1.0/g/NDATA/a\nb',
    'spBv1.0/STATE',
  ])('refuses %j as sparkplug_topic_invalid', (topic) => {
    const parsed = parseSparkplugTopic(topic);
    expect(!parsed.ok && parsed.error.reason).toBe('sparkplug_topic_invalid');
  });
});
