import {
  decodeSparkplugPayload,
  getAssetType,
  normaliseMetricName,
  type SparkplugPayload,
} from '@parkpulse/telemetry';
import { encodeSparkplugPayload, SPARKPLUG_DATATYPES as D } from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenario.js';
import { EdgeNodeSession, sparkplugMetricName, type EdgeNodeMessage } from './edge-node.js';
import { gatewayRegistryNodes, scenarioGateways } from './gateway.js';

const line = getAssetType('production_line')!;
const cnc = getAssetType('cnc_machine')!;
const T = Date.UTC(2026, 0, 1);

function session(qos: 0 | 1 = 0) {
  return new EdgeNodeSession({
    group: 'science-city',
    node: 'gz-auto-parts-line-1-plc',
    asset: line,
    devices: [
      { id: 'cnc-machine-01', asset: cnc },
      { id: 'cnc-machine-02', asset: cnc },
    ],
    qos,
  });
}

const payload = (m: EdgeNodeMessage): SparkplugPayload => {
  const d = decodeSparkplugPayload(m.payload);
  if (!d.ok) throw d.error;
  return d.value;
};
const bdSeqOf = (m: EdgeNodeMessage) => {
  const v = payload(m).metrics.find((x) => x.name === 'bdSeq')?.value;
  return v?.kind === 'long' ? Number(v.value) : undefined;
};

describe('EdgeNodeSession (what a park-sim edge node publishes)', () => {
  it('tck-id-topics-nbirth-bdseq-increment: bdSeq starts at 0 and grows on every CONNECT; the will is the NDEATH, QoS 1', () => {
    const s = session();
    const wills = [s.connect(T), s.connect(T), s.connect(T)];
    expect(wills.map(bdSeqOf)).toEqual([0, 1, 2]);
    for (const w of wills) {
      expect(w.topic).toBe('spBv1.0/science-city/NDEATH/gz-auto-parts-line-1-plc');
      expect([w.qos, w.retain]).toEqual([1, false]);
      expect(payload(w).seq).toBeUndefined(); // tck-id-payloads-ndeath-seq
    }
  });

  it('NBIRTH at seq 0 with bdSeq of its will, Node Control/Rebirth and aliased metrics; a DBIRTH per device', () => {
    const s = session();
    const will = s.connect(T);
    const births = s.births(
      T,
      { good_count: 10, power_kw: 55.5 },
      {
        'cnc-machine-01': { spindle_rpm: 100 },
        'cnc-machine-02': { spindle_rpm: 200, door_open: true },
      },
    );
    expect(births.map((b) => b.topic)).toEqual([
      'spBv1.0/science-city/NBIRTH/gz-auto-parts-line-1-plc',
      'spBv1.0/science-city/DBIRTH/gz-auto-parts-line-1-plc/cnc-machine-01',
      'spBv1.0/science-city/DBIRTH/gz-auto-parts-line-1-plc/cnc-machine-02',
    ]);
    expect(births.map((b) => payload(b).seq)).toEqual([0, 1, 2]);
    expect(bdSeqOf(births[0]!)).toBe(bdSeqOf(will)); // tck-id-topics-nbirth-bdseq-matching
    const nbirth = payload(births[0]!);
    expect(nbirth.metrics.map((m) => [m.name, m.datatype, m.alias])).toEqual([
      ['bdSeq', D.Int64, undefined],
      ['Node Control/Rebirth', D.Boolean, undefined],
      ['Good/Count', D.Double, Object.keys(line.metrics).indexOf('good_count') + 1],
      ['Power/Kw', D.Double, Object.keys(line.metrics).indexOf('power_kw') + 1],
    ]);
    const aliases = births.flatMap((b) =>
      payload(b)
        .metrics.map((m) => m.alias)
        .filter((a) => a !== undefined),
    );
    expect(new Set(aliases).size).toBe(aliases.length); // tck-id-payloads-alias-uniqueness
    expect(births.every((b) => b.qos === 0 && b.retain === false)).toBe(true); // tck-id-topics-nbirth-mqtt
  });

  it('DATA by exception: only changed metrics, by alias only, seq +1 and 255 → 0', () => {
    const s = session();
    s.connect(T);
    s.births(T, { power_kw: 1 }, { 'cnc-machine-01': { spindle_rpm: 100, door_open: false } });
    expect(s.data(T + 1, 'cnc-machine-01', { spindle_rpm: 100, door_open: false })).toBeUndefined();
    const changed = s.data(T + 2, 'cnc-machine-01', { spindle_rpm: 150, door_open: false })!;
    expect(changed.topic).toBe(
      'spBv1.0/science-city/DDATA/gz-auto-parts-line-1-plc/cnc-machine-01',
    );
    const p = payload(changed);
    expect(p.metrics).toEqual([
      {
        alias:
          Object.keys(line.metrics).length + Object.keys(cnc.metrics).indexOf('spindle_rpm') + 1,
        timestamp: T + 2,
        datatype: D.Double,
        isHistorical: false,
        isTransient: false,
        isNull: false,
        value: { kind: 'double', value: 150 },
      },
    ]);
    expect(p.metrics[0]?.name).toBeUndefined(); // tck-id-payloads-alias-data-cmd-requirement
    const seqs: number[] = [p.seq!];
    for (let i = 0; i < 300; i++)
      seqs.push(payload(s.data(T + 3 + i, undefined, { power_kw: i + 2 })!).seq!);
    expect(seqs[0]).toBe(3); // after NBIRTH 0 and the two DBIRTHs
    expect(seqs.every((q, i) => i === 0 || q === (seqs[i - 1]! + 1) % 256)).toBe(true);
    expect(seqs[seqs.indexOf(255) + 1]).toBe(0);
  });

  it('answers a rebirth request (NCMD Node Control/Rebirth = true) only for itself', () => {
    const s = session();
    const request = encodeSparkplugPayload({
      timestamp: T,
      metrics: [{ name: 'Node Control/Rebirth', datatype: D.Boolean, value: true }],
    });
    const no = encodeSparkplugPayload({
      timestamp: T,
      metrics: [{ name: 'Node Control/Rebirth', datatype: D.Boolean, value: false }],
    });
    expect(s.isRebirthRequest('spBv1.0/science-city/NCMD/gz-auto-parts-line-1-plc', request)).toBe(
      true,
    );
    expect(s.isRebirthRequest('spBv1.0/science-city/NCMD/other-plc', request)).toBe(false);
    expect(s.isRebirthRequest('spBv1.0/science-city/NCMD/gz-auto-parts-line-1-plc', no)).toBe(
      false,
    );
    expect(
      s.isRebirthRequest('spBv1.0/science-city/NCMD/gz-auto-parts-line-1-plc', Buffer.from('x')),
    ).toBe(false);
  });

  it('names metrics so that the host’s default normalisation gives the catalogue name back', () => {
    for (const asset of [line, cnc, getAssetType('industrial_robot')!])
      for (const name of Object.keys(asset.metrics))
        expect(normaliseMetricName(sparkplugMetricName(name))).toBe(name);
    expect(sparkplugMetricName('spindle_load_pct')).toBe('Spindle/Load Pct');
  });
});

describe('Sparkplug gateways of a scenario', () => {
  it('science-city-demo has them, switched off', async () => {
    const demo = await loadScenario('science-city-demo');
    expect(demo.sparkplug?.enabled).toBe(false);
    expect(scenarioGateways(demo)).toEqual([]);
    const on = scenarioGateways({ ...demo, sparkplug: { ...demo.sparkplug!, enabled: true } });
    expect(on).toHaveLength(12);
    expect(on[0]).toMatchObject({
      node: 'gz-auto-parts-line-1-plc',
      deviceId: 'sc-gz-auto-parts-line-1',
      site: 'gz-auto-parts',
    });
    expect(on[0]?.devices.map((d) => d.id)).toEqual([
      'cnc-machine-01',
      'cnc-machine-02',
      'cnc-machine-03',
      'cnc-machine-04',
      'industrial-robot-01',
      'industrial-robot-02',
      'injection-moulder-01',
    ]);
    expect(gatewayRegistryNodes(on)[0]?.devices[0]).toEqual({
      id: 'cnc-machine-01',
      assetType: 'cnc_machine',
      deviceId: 'sc-gz-auto-parts-line-1-cnc-machine-01',
    });
  });
});
