import { Point } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import { readSeqAndTime, toLineProtocol } from './lines.js';

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
