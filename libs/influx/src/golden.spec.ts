import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Point } from '@influxdata/influxdb-client';
import {
  DEFAULT_LIMITS,
  decodeCommandResult,
  decodeEvent,
  decodeStatus,
  decodeTelemetry,
  parseTopic,
  type DecodeContext,
  type Result,
} from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { toLineProtocol } from './lines.js';
import {
  commandResultPoint,
  eventPoint,
  statusPoint,
  telemetryLines,
  telemetryPoints,
} from './mapping.js';

/**
 * Golden cases for the whole path a message takes: topic ▶ decode ▶ validate ▶ map ▶ line
 * protocol. Each folder of testdata/ holds `topic`, `input` (the payload bytes) and either
 * `expected.lp` (the lines InfluxDB receives; `# dropped …` lines list refused fields) or
 * `expected.err` (the dead letter: `reason: detail`). Received time is fixed.
 * UPDATE_GOLDEN=1 rewrites the expected files (then review the diff).
 */
const TESTDATA = join(import.meta.dirname, '..', 'testdata');
const ctx: DecodeContext = { receivedAt: 1764000000000, limits: DEFAULT_LIMITS };

function render(topicText: string, payload: Buffer): { lp?: string; err?: string } {
  const topic = parseTopic(topicText);
  if (!topic.ok) return { err: topic.error.message };
  const lines = (points: Point[], extra: string[] = []) => ({
    lp: [
      ...points.map((p) => p.toLineProtocol({ convertTime: (t) => String(t) }) ?? ''),
      ...extra,
    ].join('\n'),
  });
  const ofResult = <T>(r: Result<T>, map: (v: T) => { lp: string }) =>
    r.ok ? map(r.value) : { err: r.error.message };
  switch (topic.value.channel) {
    case 'telemetry':
      return ofResult(decodeTelemetry(topic.value, payload, ctx), (m) => {
        // The ingestion writes telemetryLines; they must be what the points would be.
        const direct = telemetryLines(m);
        expect(direct).toEqual(toLineProtocol(telemetryPoints(m)));
        return {
          lp: [
            ...direct,
            ...m.dropped.map((d) => `# dropped ${d.metric}: ${d.reason}: ${d.detail}`),
          ].join('\n'),
        };
      });
    case 'status':
      return ofResult(decodeStatus(topic.value, payload, ctx), (m) => lines([statusPoint(m)]));
    case 'event':
      return ofResult(decodeEvent(topic.value, payload, ctx), (m) => lines([eventPoint(m)]));
    case 'cmd_result':
      return ofResult(decodeCommandResult(topic.value, payload, ctx), (m) =>
        lines([commandResultPoint(m)]),
      );
    case 'cmd':
      return { err: 'cmd is a downlink channel' };
  }
}

describe('golden cases: topic + payload → line protocol or dead letter', () => {
  const cases = readdirSync(TESTDATA).sort();
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(15));

  for (const name of cases) {
    it(name, () => {
      const dir = join(TESTDATA, name);
      const topic = readFileSync(join(dir, 'topic'), 'utf8').replace(/\n$/, '');
      const out = render(topic, readFileSync(join(dir, 'input')));
      const lpFile = join(dir, 'expected.lp');
      const errFile = join(dir, 'expected.err');
      if (process.env['UPDATE_GOLDEN']) {
        writeFileSync(out.lp !== undefined ? lpFile : errFile, `${out.lp ?? out.err}\n`);
      }
      if (existsSync(lpFile)) {
        expect(out.err).toBeUndefined();
        expect(out.lp).toBe(readFileSync(lpFile, 'utf8').replace(/\n$/, ''));
      } else {
        expect(out.lp).toBeUndefined();
        expect(out.err).toBe(readFileSync(errFile, 'utf8').replace(/\n$/, ''));
      }
    });
  }
});
