import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Point } from '@influxdata/influxdb-client';
import { SparkplugHost, type SparkplugMapping } from '@parkpulse/sparkplug';
import { decodeSparkplugPayload } from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { toLineProtocol } from './lines.js';
import { statusPoint, telemetryLines, telemetryPoints } from './mapping.js';

/**
 * Golden cases for Sparkplug B through the host application: each folder of
 * testdata-sparkplug/ holds numbered steps (`NN.topic`, `NN.pb`: the payload bytes, written by
 * Eclipse Tahu's encoder from `steps.json`, see generate.mjs) handed to one SparkplugHost in
 * order, and `expected.lp`: per step, the lines InfluxDB receives (telemetry and
 * device_status) and, as `#` lines, fields dropped, the dead letter's reason, notes counted,
 * ledger entries and what the host publishes. Received time is fixed (step n at +n s).
 * UPDATE_GOLDEN=1 rewrites the expected files (then review the diff).
 */
const TESTDATA = join(import.meta.dirname, '..', 'testdata-sparkplug');
const RECEIVED = 1764000000000;
const MAPPING: SparkplugMapping = {
  hostId: 'parkpulse',
  nodes: [
    {
      group: 'science-city',
      node: 'gz-line-1-plc',
      park: 'science-city',
      site: 'gz-auto-parts',
      assetType: 'production_line',
      deviceId: 'gz-line-1',
      devices: [{ id: 'cnc-1', assetType: 'cnc_machine', deviceId: 'gz-cnc-001' }],
    },
  ],
  metricNames: { cnc_machine: { 'Spindle/Speed RPM': 'spindle_rpm' } },
};

const lp = (p: Point) => p.toLineProtocol({ convertTime: (t) => String(t) }) ?? '';

function render(dir: string): string {
  const host = new SparkplugHost({ mapping: MAPPING, reorderTimeoutMs: 5000 });
  const steps = readdirSync(dir)
    .filter((f) => f.endsWith('.topic'))
    .sort();
  const out: string[] = [];
  steps.forEach((file, i) => {
    const n = file.slice(0, 2);
    const topic = readFileSync(join(dir, file), 'utf8').replace(/\n$/, '');
    const payload = readFileSync(join(dir, `${n}.pb`));
    const o = host.handle({ topic, payload, receivedAt: RECEIVED + (i + 1) * 1000 });
    out.push(`# ${n} ${topic.replace(/\n/g, '\\n')}`);
    for (const m of o.telemetry) {
      const lines = telemetryPoints(m).map(lp);
      // The ingestion writes Sparkplug telemetry with telemetryLines: the same bytes as the points.
      expect(telemetryLines(m)).toEqual(toLineProtocol(telemetryPoints(m)));
      expect(telemetryLines(m)).toEqual(lines);
      out.push(...lines);
      out.push(
        ...m.dropped.map((d) => `# dropped ${JSON.stringify(d.metric)}: ${d.reason}: ${d.detail}`),
      );
    }
    for (const s of o.status) out.push(lp(statusPoint(s)));
    for (const r of o.rejects) out.push(`# reject ${r.reason}: ${r.detail}`);
    for (const nt of o.notes) out.push(`# note ${nt.note}: ${nt.detail}`);
    for (const l of o.ledger) out.push(`# ledger ${l.topic.deviceId} seq=${l.seq} ts=${l.ts}`);
    for (const p of o.publishes) {
      const d = decodeSparkplugPayload(p.payload);
      const metrics = d.ok
        ? d.value.metrics
            .map((m) => `${m.name ?? '?'}=${m.value?.kind === 'boolean' ? m.value.value : '?'}`)
            .join(',')
        : 'undecodable';
      out.push(`# publish ${p.topic} qos=${p.qos} retain=${p.retain} ${metrics}`);
    }
  });
  return out.join('\n');
}

describe('Sparkplug golden cases: protobuf steps → line protocol, drops, dead letters, publishes', () => {
  const cases = readdirSync(TESTDATA, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(15));

  for (const name of cases) {
    it(name, () => {
      const dir = join(TESTDATA, name);
      const out = render(dir);
      const file = join(dir, 'expected.lp');
      if (process.env['UPDATE_GOLDEN']) writeFileSync(file, `${out}\n`);
      expect(out).toBe(readFileSync(file, 'utf8').replace(/\n$/, ''));
    });
  }
});
