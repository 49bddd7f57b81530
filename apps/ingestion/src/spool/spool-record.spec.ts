import { describe, expect, it } from 'vitest';
import { decodeSpoolRecord, encodeSpoolRecord, encodeSpoolRecords } from './spool-record.js';

describe('spool records', () => {
  it('round-trip the groups of a batch', () => {
    const groups = [
      {
        lines: ['cnc_machine,device=a v=1 1000', 'ingest_reject,reason=x topic="a \\"b\\"" 1001'],
        topic: 'parks/science-city/f1/cnc_machine/a/telemetry',
        park: 'science-city',
        receivedAt: 1764000000000,
      },
      { lines: ['platform_ingestion,instance=i messages_in=3 1002'], topic: 'platform_ingestion' },
    ];
    expect(decodeSpoolRecord(encodeSpoolRecord(groups))).toEqual(groups);
  });

  it('refuses what this version did not write', () => {
    for (const data of [
      'not json',
      '{"v":2,"groups":[]}',
      '{"v":1}',
      '{"v":1,"groups":[{"t":"x","l":[1]}]}',
      '{"v":1,"groups":[{"l":["x"]}]}',
      'null',
    ])
      expect(decodeSpoolRecord(Buffer.from(data))).toBeInstanceOf(Error);
  });

  it('split a large batch into records of the size asked, keeping every line once, in order', () => {
    const line = (i: number) =>
      `cnc_machine,device=d${i % 7} spindle_rpm=${i},seq=${i} ${1000 + i}`;
    const groups = Array.from({ length: 50 }, (_, g) => ({
      lines: Array.from({ length: 100 }, (_, i) => line(g * 100 + i)),
      topic: `parks/science-city/f1/cnc_machine/d${g}/telemetry`,
      receivedAt: g,
    }));
    const records = encodeSpoolRecords(groups, 16 * 1024);
    expect(records.length).toBeGreaterThan(10);
    for (const r of records) expect(r.length).toBeLessThanOrEqual(16 * 1024);
    const decoded = records.flatMap((r) => {
      const d = decodeSpoolRecord(r);
      if (d instanceof Error) throw d;
      return d;
    });
    expect(decoded.flatMap((g) => g.lines)).toEqual(groups.flatMap((g) => g.lines));
    expect(new Set(decoded.map((g) => g.topic)).size).toBe(50);
    expect(encodeSpoolRecords(groups.slice(0, 1), 1 << 20)).toHaveLength(1);
  });
});
