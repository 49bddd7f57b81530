import { describe, expect, it } from 'vitest';
import { decodeSpoolRecord, encodeSpoolRecord } from './spool-record.js';

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
});
