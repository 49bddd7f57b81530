import {
  decodeSparkplugPayload,
  encodeSparkplugPayload,
  SPARKPLUG_DATATYPES as D,
  type SparkplugPayload,
} from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import {
  dbirthCnc,
  ddataCnc,
  GROUP,
  MAPPING,
  nbirth,
  ndeath,
  NODE,
  T0,
  topicOf,
} from '../test/fixtures.js';
import { SparkplugHost, type SparkplugHostSnapshot, type SparkplugOutcome } from './host.js';

function host(options: Partial<ConstructorParameters<typeof SparkplugHost>[0]> = {}) {
  return new SparkplugHost({ mapping: MAPPING, ...options });
}

/** A host that has seen NBIRTH (seq 0, bdSeq 3) and the CNC's DBIRTH (seq 1). */
function born(options: Partial<ConstructorParameters<typeof SparkplugHost>[0]> = {}) {
  const h = host(options);
  h.handle({ topic: topicOf('NBIRTH'), payload: nbirth(0, 3), receivedAt: T0 });
  h.handle({ topic: topicOf('DBIRTH', 'cnc-1'), payload: dbirthCnc(1), receivedAt: T0 });
  return h;
}

const fields = (o: SparkplugOutcome) => o.telemetry.flatMap((m) => m.samples.map((s) => s.fields));
const decodedPublish = (o: SparkplugOutcome, i = 0): SparkplugPayload => {
  const p = o.publishes[i];
  if (!p) throw new Error('no publish');
  const d = decodeSparkplugPayload(p.payload);
  if (!d.ok) throw d.error;
  return d.value;
};

describe('SparkplugHost: sessions', () => {
  it('NBIRTH: the node online, its metrics stored under catalogue names, session metrics not', () => {
    const out = host().handle({ topic: topicOf('NBIRTH'), payload: nbirth(0, 3), receivedAt: T0 });
    expect(out.rejects).toEqual([]);
    expect(out.status.map((s) => [s.topic.deviceId, s.online])).toEqual([['gz-line-1', true]]);
    expect(out.telemetry).toHaveLength(1);
    expect(out.telemetry[0]?.topic.assetType).toBe('production_line');
    expect(fields(out)).toEqual([{ line_good_count: 100, line_power_kw: 41.2 }]);
    expect(out.ledger.map((l) => [l.topic.deviceId, l.seq])).toEqual([['gz-line-1', 0]]);
  });

  it('DBIRTH: the device online, names mapped by the table, then by normalisation', () => {
    const h = host();
    h.handle({ topic: topicOf('NBIRTH'), payload: nbirth(0, 3), receivedAt: T0 });
    const out = h.handle({
      topic: topicOf('DBIRTH', 'cnc-1'),
      payload: dbirthCnc(1),
      receivedAt: T0,
    });
    expect(out.status.map((s) => [s.topic.deviceId, s.online])).toEqual([['gz-cnc-001', true]]);
    expect(out.telemetry[0]?.topic.deviceId).toBe('gz-cnc-001');
    expect(fields(out)).toEqual([
      { spindle_rpm: 11850, temperature_c: 41.5, state: 'running', door_open: false },
    ]);
  });

  it('tck-id-payloads-alias-data-cmd-requirement: DDATA by alias resolves to the BIRTH name and datatype', () => {
    const out = born().handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(2, T0 + 1000, 12000),
      receivedAt: T0 + 1000,
    });
    expect(out.rejects).toEqual([]);
    expect(out.telemetry[0]?.samples).toEqual([{ ts: T0 + 1000, fields: { spindle_rpm: 12000 } }]);
    expect(out.publishes).toEqual([]);
  });

  it('resolves an alias-only DDATA metric without a datatype from the BIRTH (Int32 two’s complement)', () => {
    const h = born();
    const payload = encodeSparkplugPayload({
      timestamp: T0 + 1,
      seq: 2,
      metrics: [{ alias: 11, datatype: D.Double, value: -3.25 }],
    });
    expect(
      fields(h.handle({ topic: topicOf('DDATA', 'cnc-1'), payload, receivedAt: T0 + 1 })),
    ).toEqual([{ temperature_c: -3.25 }]);
  });

  it('an alias of another device does not resolve for this one', () => {
    const out = born().handle({
      topic: topicOf('NDATA'),
      payload: encodeSparkplugPayload({
        timestamp: T0,
        seq: 2,
        metrics: [{ alias: 10, datatype: D.Int32, value: 1 }],
      }),
      receivedAt: T0,
    });
    expect(out.rejects.map((r) => r.reason)).toEqual(['no_valid_fields']);
    expect(out.notes.map((n) => n.note)).toContain('rebirth_requested');
  });

  it('tck-id-payloads-sequence-num-incrementing: seq wraps 255 → 0 without a gap', () => {
    const h = born();
    let last: SparkplugOutcome | undefined;
    const ledger: number[] = [];
    for (let i = 2; i <= 300; i++) {
      last = h.handle({
        topic: topicOf('DDATA', 'cnc-1'),
        payload: ddataCnc(i % 256, T0 + i, 1000 + i),
        receivedAt: T0 + i,
      });
      expect(last.notes).toEqual([]);
      ledger.push(...last.ledger.map((l) => l.seq));
    }
    expect(ledger).toEqual(Array.from({ length: 299 }, (_, i) => i + 2));
    expect(h.counters()['seq_gap']).toBeUndefined();
  });

  it('tck-id-operational-behavior-host-reordering-start and -success: a gap closed in time needs no rebirth', () => {
    const h = born({ reorderTimeoutMs: 2000 });
    const at = (seq: number, t: number) =>
      h.handle({
        topic: topicOf('DDATA', 'cnc-1'),
        payload: ddataCnc(seq, T0 + t, 100 + seq),
        receivedAt: T0 + t,
      });
    expect(at(2, 10).notes).toEqual([]);
    expect(at(4, 20).notes.map((n) => n.note)).toEqual(['seq_gap']);
    const late = at(3, 500);
    expect(late.notes.map((n) => n.note)).toEqual(['seq_gap_closed']);
    expect(late.ledger.map((l) => l.seq)).toEqual([3]);
    expect(h.tick(T0 + 10_000).publishes).toEqual([]);
    expect(at(5, 10_001).ledger.map((l) => l.seq)).toEqual([5]);
  });

  it('tck-id-operational-behavior-host-reordering-rebirth: a gap open past the reorder timeout → NCMD rebirth', () => {
    const h = born({ reorderTimeoutMs: 2000 });
    h.handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(5, T0 + 10, 1),
      receivedAt: T0 + 10,
    });
    expect(h.tick(T0 + 2009).publishes).toEqual([]);
    const out = h.tick(T0 + 2010);
    expect(out.notes.map((n) => n.note)).toEqual(['seq_gap_timeout', 'rebirth_requested']);
    expect(out.publishes).toHaveLength(1);
    expect(out.publishes[0]).toMatchObject({
      topic: `spBv1.0/${GROUP}/NCMD/${NODE}`,
      qos: 0,
      retain: false,
    });
  });

  it('a late message after the timeout is not a gap closed', () => {
    const h = born({ reorderTimeoutMs: 100 });
    h.handle({ topic: topicOf('DDATA', 'cnc-1'), payload: ddataCnc(4, T0, 1), receivedAt: T0 });
    const out = h.handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(3, T0, 1),
      receivedAt: T0 + 200,
    });
    expect(out.notes.map((n) => n.note)).toEqual([
      'seq_gap_timeout',
      'rebirth_requested',
      'seq_repeated',
    ]);
  });

  it('tck-id-operational-behavior-data-commands-ncmd-rebirth-verb/-name/-value: the rebirth request', () => {
    const out = host().handle({
      topic: topicOf('NDATA'),
      payload: ddataCnc(1, T0, 1),
      receivedAt: T0,
    });
    const request = decodedPublish(out);
    expect(out.publishes[0]?.topic).toBe(`spBv1.0/${GROUP}/NCMD/${NODE}`);
    // tck-id-payloads-ncmd-timestamp, tck-id-payloads-ncmd-seq
    expect(request.timestamp).toBe(T0);
    expect(request.seq).toBeUndefined();
    expect(request.metrics).toEqual([
      {
        name: 'Node Control/Rebirth',
        timestamp: T0,
        datatype: D.Boolean,
        isHistorical: false,
        isTransient: false,
        isNull: false,
        value: { kind: 'boolean', value: true },
      },
    ]);
  });

  it('DATA before any BIRTH → dead letter sparkplug_no_birth and a rebirth request', () => {
    const out = host().handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(7, T0, 1),
      receivedAt: T0,
    });
    expect(out.rejects).toEqual([
      { reason: 'sparkplug_no_birth', detail: `DDATA of ${GROUP}/${NODE}/cnc-1 before any NBIRTH` },
    ]);
    expect(out.notes.map((n) => n.note)).toEqual(['rebirth_requested']);
    expect(out.publishes).toHaveLength(1);
  });

  it('DDATA of a device whose DBIRTH was not seen → sparkplug_no_birth and a rebirth request', () => {
    const h = host();
    h.handle({ topic: topicOf('NBIRTH'), payload: nbirth(0, 1), receivedAt: T0 });
    const out = h.handle({
      topic: topicOf('DDATA', 'robot-1'),
      payload: ddataCnc(1, T0, 1),
      receivedAt: T0,
    });
    expect(out.rejects.map((r) => r.reason)).toEqual(['sparkplug_no_birth']);
    expect(out.publishes).toHaveLength(1);
  });

  it('an unknown alias drops that metric, keeps the rest and requests a rebirth', () => {
    const payload = encodeSparkplugPayload({
      timestamp: T0,
      seq: 2,
      metrics: [
        { alias: 10, datatype: D.Int32, value: 5 },
        { alias: 99, datatype: D.Int32, value: 6 },
      ],
    });
    const out = born().handle({ topic: topicOf('DDATA', 'cnc-1'), payload, receivedAt: T0 });
    expect(fields(out)).toEqual([{ spindle_rpm: 5 }]);
    expect(out.telemetry[0]?.dropped).toEqual([
      {
        metric: 'alias 99',
        reason: 'unknown_alias',
        detail: `no BIRTH of ${GROUP}/${NODE}/cnc-1 declared this alias`,
      },
    ]);
    expect(out.publishes).toHaveLength(1);
  });

  it('rebirth requests are rate limited per edge node', () => {
    const h = host({ rebirthMinIntervalMs: 10_000 });
    const data = (t: number) =>
      h.handle({
        topic: topicOf('DDATA', 'cnc-1'),
        payload: ddataCnc(1, T0, 1),
        receivedAt: T0 + t,
      });
    expect(data(0).publishes).toHaveLength(1);
    for (let t = 1; t < 10_000; t += 1000)
      expect(data(t).notes.map((n) => n.note)).toEqual(['rebirth_suppressed']);
    expect(data(10_000).publishes).toHaveLength(1);
    expect(h.counters()).toMatchObject({
      rebirth_requested: 2,
      rebirth_suppressed: 10,
      sparkplug_no_birth: 12,
    });
  });

  it('tck-id-payloads-ndeath-bdseq: an NDEATH whose bdSeq is not the session’s is ignored', () => {
    const h = born();
    const out = h.handle({ topic: topicOf('NDEATH'), payload: ndeath(2), receivedAt: T0 + 5 });
    expect(out.notes).toEqual([
      { note: 'ndeath_ignored', detail: `${GROUP}/${NODE}: NDEATH bdSeq 2, session bdSeq 3` },
    ]);
    expect(out.status).toEqual([]);
    expect(h.isOnline(GROUP, NODE)).toBe(true);
    // and the session goes on: DATA still resolves
    expect(
      fields(
        h.handle({ topic: topicOf('DDATA', 'cnc-1'), payload: ddataCnc(2, T0, 7), receivedAt: T0 }),
      ),
    ).toEqual([{ spindle_rpm: 7 }]);
  });

  it('tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-offline and -devices-offline', () => {
    const h = born();
    const out = h.handle({ topic: topicOf('NDEATH'), payload: ndeath(3), receivedAt: T0 + 5 });
    expect(out.status.map((s) => [s.topic.deviceId, s.online, s.ts])).toEqual([
      ['gz-line-1', false, T0 + 5],
      ['gz-cnc-001', false, T0 + 5],
    ]);
    expect(h.isOnline(GROUP, NODE)).toBe(false);
  });

  it('aliases are cleared by NDEATH: DATA after it is refused until the next NBIRTH', () => {
    const h = born();
    h.handle({ topic: topicOf('NDEATH'), payload: ndeath(3), receivedAt: T0 });
    expect(
      h.handle({ topic: topicOf('DDATA', 'cnc-1'), payload: ddataCnc(2, T0, 1), receivedAt: T0 })
        .rejects[0]?.reason,
    ).toBe('sparkplug_no_birth');
  });

  it('aliases are cleared by NBIRTH: a new session must DBIRTH its devices again', () => {
    const h = born();
    h.handle({ topic: topicOf('NBIRTH'), payload: nbirth(0, 4), receivedAt: T0 + 100 });
    const out = h.handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(1, T0, 1),
      receivedAt: T0 + 100,
    });
    expect(out.rejects.map((r) => r.reason)).toEqual(['sparkplug_no_birth']);
  });

  it('tck-id-operational-behavior-device-ddeath: DDEATH → the device offline, the node stays online', () => {
    const h = born();
    const death = encodeSparkplugPayload({ timestamp: T0, seq: 2, metrics: [] });
    const out = h.handle({ topic: topicOf('DDEATH', 'cnc-1'), payload: death, receivedAt: T0 + 9 });
    expect(out.status.map((s) => [s.topic.deviceId, s.online])).toEqual([['gz-cnc-001', false]]);
    expect(out.ledger.map((l) => l.seq)).toEqual([2]);
    expect(h.isOnline(GROUP, NODE)).toBe(true);
  });

  it('Tahu’s quirk: bdSeq 0 on every connect — the NDEATH still matches and the node goes offline', () => {
    const h = host();
    h.handle({ topic: topicOf('NBIRTH'), payload: nbirth(0, 0), receivedAt: T0 });
    expect(
      h.handle({ topic: topicOf('NDEATH'), payload: ndeath(0), receivedAt: T0 + 1 }).status,
    ).toHaveLength(1);
    h.handle({ topic: topicOf('NBIRTH'), payload: nbirth(0, 0), receivedAt: T0 + 2 });
    expect(h.isOnline(GROUP, NODE)).toBe(true);
  });

  it('the ledger counts seq across sessions without false gaps', () => {
    const h = born();
    h.handle({ topic: topicOf('DDATA', 'cnc-1'), payload: ddataCnc(2, T0, 1), receivedAt: T0 });
    h.handle({ topic: topicOf('NDEATH'), payload: ndeath(3), receivedAt: T0 });
    const again = h.handle({ topic: topicOf('NBIRTH'), payload: nbirth(0, 4), receivedAt: T0 + 1 });
    expect(again.ledger.map((l) => l.seq)).toEqual([3]);
  });

  it('a redelivered message is stored again at the same ledger seq', () => {
    const h = born();
    const msg = {
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(2, T0 + 5, 9),
      receivedAt: T0 + 5,
    };
    const first = h.handle(msg);
    h.handle({ ...msg, payload: ddataCnc(3, T0 + 6, 9) });
    const again = h.handle(msg);
    expect(again.notes.map((n) => n.note)).toEqual(['seq_repeated']);
    expect(again.ledger.map((l) => l.seq)).toEqual(first.ledger.map((l) => l.seq));
    expect(again.telemetry[0]?.samples).toEqual(first.telemetry[0]?.samples);
  });

  it('an NBIRTH redelivered after the restart, after DATA of its session: kept as the session, at its own ledger seq', () => {
    const before = born();
    before.handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(2, T0 + 1, 7),
      receivedAt: T0 + 1,
    });
    const after = host();
    after.restore(JSON.parse(JSON.stringify(before.snapshot())) as SparkplugHostSnapshot);
    // QoS 1: the broker sends the NBIRTH again, the previous process not having acknowledged it.
    const again = after.handle({
      topic: topicOf('NBIRTH'),
      payload: nbirth(0, 3),
      receivedAt: T0 + 2,
    });
    expect(again.rejects).toEqual([]);
    expect(again.notes.map((n) => n.note)).toEqual(['nbirth_repeated']);
    expect(again.ledger.map((l) => l.seq)).toEqual([0]);
    expect(fields(again)).toEqual([{ line_good_count: 100, line_power_kw: 41.2 }]);
    expect(again.publishes).toEqual([]);
    // The DBIRTH's aliases are still the session's, and seq goes on without a gap.
    const next = after.handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(3, T0 + 3, 12001),
      receivedAt: T0 + 3,
    });
    expect(next.rejects).toEqual([]);
    expect(next.notes).toEqual([]);
    expect(fields(next)).toEqual([{ spindle_rpm: 12001 }]);
    expect(next.ledger.map((l) => l.seq)).toEqual([3]);
  });

  it('an NBIRTH with the session’s bdSeq but a new timestamp is a new session', () => {
    const h = born();
    h.handle({ topic: topicOf('DDATA', 'cnc-1'), payload: ddataCnc(2, T0 + 1, 7), receivedAt: T0 });
    const fresh = h.handle({
      topic: topicOf('NBIRTH'),
      payload: nbirth(0, 3, T0 + 10),
      receivedAt: T0 + 10,
    });
    expect(fresh.notes).toEqual([]);
    expect(fresh.ledger.map((l) => l.seq)).toEqual([3]);
    const data = h.handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(1, T0 + 11, 1),
      receivedAt: T0 + 11,
    });
    expect(data.rejects.map((r) => r.reason)).toEqual(['sparkplug_no_birth']);
  });

  it('a restored snapshot reads DATA of a session born before it, at the ledger seq it was at', () => {
    const before = born();
    before.handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(2, T0 + 1, 7),
      receivedAt: T0 + 1,
    });
    const after = host();
    after.restore(JSON.parse(JSON.stringify(before.snapshot())) as SparkplugHostSnapshot);
    expect(after.isOnline(GROUP, NODE)).toBe(true);
    const next = after.handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(3, T0 + 2, 12001),
      receivedAt: T0 + 2,
    });
    expect(next.rejects).toEqual([]);
    expect(next.notes).toEqual([]);
    expect(next.publishes).toEqual([]);
    expect(fields(next)).toEqual([{ spindle_rpm: 12001 }]);
    expect(next.ledger.map((l) => l.seq)).toEqual([3]);
    // A message the previous process handled but never stored comes again: same ledger seq.
    const redelivered = after.handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(2, T0 + 1, 7),
      receivedAt: T0 + 3,
    });
    expect(redelivered.notes.map((n) => n.note)).toEqual(['seq_repeated']);
    expect(redelivered.ledger.map((l) => l.seq)).toEqual([2]);
  });

  it('historical metrics are stored at their own timestamps', () => {
    const payload = encodeSparkplugPayload({
      timestamp: T0 + 60_000,
      seq: 2,
      metrics: [
        { alias: 10, timestamp: T0 + 10_000, datatype: D.Int32, value: 1, isHistorical: true },
        { alias: 10, timestamp: T0 + 20_000, datatype: D.Int32, value: 2, isHistorical: true },
        { alias: 11, datatype: D.Double, value: 50 },
      ],
    });
    const out = born().handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload,
      receivedAt: T0 + 61_000,
    });
    expect(out.telemetry[0]?.samples).toEqual([
      { ts: T0 + 10_000, fields: { spindle_rpm: 1 } },
      { ts: T0 + 20_000, fields: { spindle_rpm: 2 } },
      { ts: T0 + 60_000, fields: { temperature_c: 50 } },
    ]);
  });

  it('catalogue checks apply as for JSON: an out-of-range value is dropped with its reason', () => {
    const out = born().handle({
      topic: topicOf('DDATA', 'cnc-1'),
      payload: ddataCnc(2, T0, 99_999),
      receivedAt: T0,
    });
    expect(out.rejects).toEqual([
      { reason: 'no_valid_fields', detail: 'spindle_rpm: out_of_range' },
    ]);
  });
});

describe('SparkplugHost: mapping', () => {
  it('refuses an edge node or device the registry does not map', () => {
    const h = host();
    expect(
      h.handle({ topic: 'spBv1.0/other/NBIRTH/x', payload: nbirth(0, 0), receivedAt: T0 }).rejects,
    ).toEqual([
      { reason: 'sparkplug_unmapped', detail: 'edge node other/x is not in the registry' },
    ]);
    expect(
      h.handle({ topic: topicOf('DBIRTH', 'ghost'), payload: dbirthCnc(1), receivedAt: T0 })
        .rejects[0]?.reason,
    ).toBe('sparkplug_unmapped');
  });

  it('unmappedMetrics: refuse drops metrics outside the catalogue as metric_unmapped', () => {
    const h = host({ mapping: { ...MAPPING, unmappedMetrics: 'refuse' } });
    const out = h.handle({ topic: topicOf('NBIRTH'), payload: nbirth(0, 0), receivedAt: T0 });
    expect(out.rejects.map((r) => r.reason)).toEqual(['no_valid_fields']);
    h.handle({ topic: topicOf('NBIRTH'), payload: nbirth(0, 0), receivedAt: T0 });
    const d = h.handle({
      topic: topicOf('DBIRTH', 'cnc-1'),
      payload: dbirthCnc(1),
      receivedAt: T0,
    });
    expect(fields(d)).toEqual([
      { spindle_rpm: 11850, temperature_c: 41.5, state: 'running', door_open: false },
    ]);
  });

  it('lists every problem of a mapping at once', () => {
    expect(
      () =>
        new SparkplugHost({
          mapping: {
            hostId: 'h',
            nodes: [
              {
                group: 'g',
                node: 'n',
                park: 'mars',
                site: 's',
                assetType: 'cnc_machine',
                deviceId: 'd',
                devices: [],
              },
              {
                group: 'g',
                node: 'm',
                park: 'science-city',
                site: 'f1',
                assetType: 'teapot',
                deviceId: 'e',
                devices: [{ id: 'x', assetType: 'cnc_machine', deviceId: 'e' }],
              },
            ],
            metricNames: { cnc_machine: { A: 'not_a_metric' } },
          },
        }),
    ).toThrow(
      /4 problem\(s\):\n {2}edge node g\/n: "mars" is not a park[^\n]*\n {2}edge node g\/m: "teapot" is not an asset type[^\n]*\n {2}ParkPulse device e is mapped twice in park science-city\n {2}metricNames.cnc_machine."A": "not_a_metric" is not a cnc_machine metric/,
    );
  });
});

describe('SparkplugHost: STATE', () => {
  it('tck-id-host-topic-phid-birth-topic/-payload/-qos/-retain: STATE birth', () => {
    const { birth } = host().stateMessages(T0);
    expect(birth.topic).toBe('spBv1.0/STATE/parkpulse');
    expect(JSON.parse(birth.payload.toString('utf8'))).toEqual({ online: true, timestamp: T0 });
    expect([birth.qos, birth.retain]).toEqual([1, true]);
  });

  it('tck-id-operational-behavior-host-application-connect-will-topic/-payload/-qos/-retained: STATE death as the will', () => {
    const { birth, death } = host().stateMessages(T0);
    expect(death.topic).toBe(birth.topic);
    expect(JSON.parse(death.payload.toString('utf8'))).toEqual({ online: false, timestamp: T0 });
    expect([death.qos, death.retain]).toEqual([1, true]);
  });

  it('tck-id-host-topic-phid-birth-payload-timestamp: birth and will carry the same CONNECT timestamp', () => {
    const { birth, death } = host().stateMessages(T0 + 123);
    const ts = (b: Buffer) => (JSON.parse(b.toString('utf8')) as { timestamp: number }).timestamp;
    expect(ts(birth.payload)).toBe(ts(death.payload));
  });

  it('ignores STATE and commands on the way in', () => {
    const h = host();
    expect(
      h.handle({ topic: 'spBv1.0/STATE/other', payload: Buffer.from('{}'), receivedAt: T0 })
        .notes[0]?.note,
    ).toBe('not_for_host');
    expect(
      h.handle({ topic: topicOf('NCMD'), payload: Buffer.alloc(0), receivedAt: T0 }).rejects,
    ).toEqual([]);
  });
});
