import { describe, expect, it } from 'vitest';
import { RECORD_HEADER_BYTES, SEGMENT_MAGIC, frameRecord, parseSegment } from './record.js';

function segmentOf(...payloads: string[]): Buffer {
  return Buffer.concat([SEGMENT_MAGIC, ...payloads.flatMap((p) => frameRecord(Buffer.from(p)))]);
}

describe('segment format', () => {
  it('reads back every record in order', () => {
    const { records, damage } = parseSegment(segmentOf('one', '', 'three ✓'));
    expect(records.map((r) => r.toString())).toEqual(['one', '', 'three ✓']);
    expect(damage).toBeUndefined();
  });

  it('an empty file holds nothing and is not damage', () => {
    expect(parseSegment(Buffer.alloc(0))).toEqual({ records: [] });
    expect(parseSegment(Buffer.from(SEGMENT_MAGIC))).toEqual({ records: [] });
  });

  it('a record cut anywhere (a crash mid-append) is skipped; those before it are kept', () => {
    const whole = segmentOf('first', 'second record');
    const lastStart = whole.length - RECORD_HEADER_BYTES - 'second record'.length;
    for (let cut = lastStart + 1; cut < whole.length; cut++) {
      const { records, damage } = parseSegment(whole.subarray(0, cut));
      expect(records.map((r) => r.toString())).toEqual(['first']);
      expect(damage).toEqual({
        kind: 'truncated',
        offset: lastStart,
        bytesSkipped: cut - lastStart,
      });
    }
  });

  it('a record whose bytes changed fails its checksum, and reading stops there', () => {
    const data = segmentOf('first', 'second', 'third');
    const secondPayload = SEGMENT_MAGIC.length + RECORD_HEADER_BYTES + 5 + RECORD_HEADER_BYTES;
    data.writeUInt8(data.readUInt8(secondPayload + 2) ^ 0x20, secondPayload + 2);
    const { records, damage } = parseSegment(data);
    expect(records.map((r) => r.toString())).toEqual(['first']);
    expect(damage?.kind).toBe('checksum');
  });

  it('a damaged length field is caught by the checksum too', () => {
    const data = segmentOf('first', 'second');
    data.writeUInt32LE(3, SEGMENT_MAGIC.length + RECORD_HEADER_BYTES + 5); // claims 3 bytes, not 6
    expect(parseSegment(data).damage?.kind).toBe('checksum');
    data.writeUInt32LE(0xffffffff, SEGMENT_MAGIC.length + RECORD_HEADER_BYTES + 5);
    expect(parseSegment(data).damage?.kind).toBe('checksum');
  });

  it('a file that is not a segment (or ends inside the magic) is not read', () => {
    expect(parseSegment(Buffer.from('hello world, not a spool')).damage?.kind).toBe('header');
    expect(parseSegment(SEGMENT_MAGIC.subarray(0, 3)).damage).toEqual({
      kind: 'header',
      offset: 0,
      bytesSkipped: 3,
    });
  });
});
