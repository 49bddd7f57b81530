import { Point } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import type { TelemetryMessage } from '@parkpulse/telemetry';
import { readSeqAndTime, toLineProtocol } from './lines.js';
import { telemetryLines, telemetryPoints } from './mapping.js';

describe('readSeqAndTime', () => {
  it('finds seq and time among sorted fields, whatever the strings and names hold', () => {
    const point = new Point('cnc machine,x')
      .tag('device', 'a b,c=d')
      .tag('park', 'science-city')
      .stringField('a_note', 'x,seq=5 123 "quoted" \\')
      .floatField('seq', 1042)
      .stringField('state', 'running')
      .booleanField('door_open', false)
      .timestamp(1_763_999_995_000);
    const [line] = toLineProtocol([point]);
    expect(readSeqAndTime(line!)).toEqual({
      measurement: 'cnc machine,x',
      seq: 1042,
      ts: 1_763_999_995_000,
    });
  });

  it('reports a line without seq, and refuses one without a field set', () => {
    expect(readSeqAndTime('ingest_reject,reason=x topic="a b" 17')).toEqual({
      measurement: 'ingest_reject',
      ts: 17,
    });
    expect(readSeqAndTime('just_a_name')).toBeUndefined();
  });
});

describe('telemetryLines', () => {
  it('writes what the points would, whatever the names and strings hold', () => {
    const message = {
      topic: {
        park: 'science city',
        site: 'hall,7',
        assetType: 'cnc machine=x',
        deviceId: 'cnc "1"',
        channel: 'telemetry',
      },
      samples: [
        {
          ts: 1_763_999_995_000,
          seq: 7,
          fields: { 'z last': 1.5, a_note: 'x,seq=5 123 "q" \\ end\nline', on: true, off: false },
        },
        { ts: 1_763_999_995_001, fields: { big: 1e21, small: -0.000001, zero: 0 } },
        { ts: 1_763_999_995_002, seq: 9, fields: {} },
      ],
      dropped: [],
    } as unknown as TelemetryMessage; // a topic the catalogue would refuse: escaping is the point
    expect(telemetryLines(message)).toEqual(toLineProtocol(telemetryPoints(message)));
    expect(telemetryLines(message)).toHaveLength(3);
  });

  it('refuses a number InfluxDB cannot store, as Point does', () => {
    const message = {
      topic: { park: 'p', site: 's', assetType: 'a', deviceId: 'd', channel: 'telemetry' },
      samples: [{ ts: 1, fields: { v: Number.NaN } }],
      dropped: [],
    } as unknown as TelemetryMessage;
    expect(() => telemetryLines(message)).toThrow("invalid float value for field 'v'");
  });
});
