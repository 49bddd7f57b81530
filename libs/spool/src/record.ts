import { crc32 } from 'node:zlib';

/**
 * The first bytes of every segment file: the format's name and version. A file that starts
 * otherwise is not read (and not deleted: it may be someone else's).
 */
export const SEGMENT_MAGIC = Buffer.from('PPSPOOL1', 'latin1');

/** Per record: payload length (u32 LE) and CRC-32 of those 4 length bytes + the payload (u32 LE). */
export const RECORD_HEADER_BYTES = 8;

/**
 * Largest payload a record may carry. A length field above it can only be damage, and reading
 * stops there instead of allocating whatever a torn header claims.
 */
export const MAX_RECORD_PAYLOAD_BYTES = 256 * 1024 * 1024;

/** Bytes a payload of `payloadBytes` takes on disk. */
export function recordBytes(payloadBytes: number): number {
  return RECORD_HEADER_BYTES + payloadBytes;
}

/** The header and payload of one record, ready for a vectored write. */
export function frameRecord(payload: Buffer): [Buffer, Buffer] {
  if (payload.length > MAX_RECORD_PAYLOAD_BYTES)
    throw new RangeError(
      `a spool record holds at most ${MAX_RECORD_PAYLOAD_BYTES} bytes, got ${payload.length}`,
    );
  const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(checksum(header.subarray(0, 4), payload), 4);
  return [header, payload];
}

/** Why the rest of a segment could not be read. */
export type SegmentDamageKind =
  /** The file ends inside a record: the process died while appending it (never acknowledged). */
  | 'truncated'
  /** A record's checksum does not match: a torn write that left stale bytes, or disk damage. */
  | 'checksum'
  /** The file does not start with SEGMENT_MAGIC (or ends inside it). */
  | 'header';

export interface SegmentDamage {
  readonly kind: SegmentDamageKind;
  /** Byte offset where reading stopped. */
  readonly offset: number;
  /** Bytes from there to the end of the file, not read. */
  readonly bytesSkipped: number;
}

export interface SegmentContents {
  /** Every intact record, in append order (views into the buffer that was parsed). */
  readonly records: Buffer[];
  /** Set when reading stopped before the end of the file. */
  readonly damage?: SegmentDamage;
}

/**
 * Reads the records of a segment file's bytes. Reading stops at the first record that is cut
 * short or fails its checksum: records are only ever appended, so that can only be the tail a
 * crash left behind (whose append was never acknowledged) — or damage, after which nothing in
 * the file can be trusted to be framed correctly. Never throws.
 */
export function parseSegment(data: Buffer): SegmentContents {
  const records: Buffer[] = [];
  if (data.length === 0) return { records };
  const magicLength = Math.min(data.length, SEGMENT_MAGIC.length);
  if (
    data.length < SEGMENT_MAGIC.length ||
    !data.subarray(0, magicLength).equals(SEGMENT_MAGIC.subarray(0, magicLength))
  ) {
    return { records, damage: { kind: 'header', offset: 0, bytesSkipped: data.length } };
  }
  let offset = SEGMENT_MAGIC.length;
  const damaged = (kind: SegmentDamageKind): SegmentContents => ({
    records,
    damage: { kind, offset, bytesSkipped: data.length - offset },
  });
  while (offset < data.length) {
    if (data.length - offset < RECORD_HEADER_BYTES) return damaged('truncated');
    const length = data.readUInt32LE(offset);
    if (length > MAX_RECORD_PAYLOAD_BYTES) return damaged('checksum');
    const start = offset + RECORD_HEADER_BYTES;
    if (start + length > data.length) return damaged('truncated');
    const payload = data.subarray(start, start + length);
    if (checksum(data.subarray(offset, offset + 4), payload) !== data.readUInt32LE(offset + 4))
      return damaged('checksum');
    records.push(payload);
    offset = start + length;
  }
  return { records };
}

function checksum(lengthBytes: Buffer, payload: Buffer): number {
  return crc32(payload, crc32(lengthBytes));
}
