/**
 * The points of one MQTT message as the spool keeps them: line protocol (ms precision) plus what
 * a dead letter needs should InfluxDB refuse them when they are replayed. The payload itself is
 * not kept: it would double the spool for a case that InfluxDB's own refusal explains.
 */
export interface SpooledGroup {
  readonly lines: readonly string[];
  readonly topic: string;
  readonly park?: string;
  readonly receivedAt?: number;
}

const VERSION = 1;

interface RecordV1 {
  v: 1;
  groups: { t: string; p?: string; r?: number; l: string[] }[];
}

/** One spool record = one batch: the groups of the messages it acknowledged. */
export function encodeSpoolRecord(groups: readonly SpooledGroup[]): Buffer {
  const record: RecordV1 = {
    v: VERSION,
    groups: groups.map((g) => ({
      t: g.topic,
      ...(g.park !== undefined ? { p: g.park } : {}),
      ...(g.receivedAt !== undefined ? { r: g.receivedAt } : {}),
      l: [...g.lines],
    })),
  };
  return Buffer.from(JSON.stringify(record));
}

/**
 * The groups of one batch as records of about `maxBytes` at most (a group larger than that is
 * split by its lines; a single line larger than that makes a record of its own).
 */
export function encodeSpoolRecords(groups: readonly SpooledGroup[], maxBytes: number): Buffer[] {
  const records: Buffer[] = [];
  let current: SpooledGroup[] = [];
  let size = 0;
  const close = () => {
    if (current.length > 0) records.push(encodeSpoolRecord(current));
    current = [];
    size = 0;
  };
  for (const group of groups) {
    let lines: string[] = [];
    let groupSize = 0;
    const overhead = 64 + group.topic.length;
    for (const line of group.lines) {
      const lineBytes = Buffer.byteLength(line) + 3;
      if (lines.length > 0 && size + overhead + groupSize + lineBytes > maxBytes) {
        current.push({ ...group, lines });
        close();
        lines = [];
        groupSize = 0;
      }
      lines.push(line);
      groupSize += lineBytes;
    }
    if (lines.length > 0 || group.lines.length === 0) {
      if (current.length > 0 && size + overhead + groupSize > maxBytes) close();
      current.push(lines === group.lines ? group : { ...group, lines });
      size += overhead + groupSize;
    }
  }
  close();
  return records;
}

/**
 * A record's groups, or an Error when it is not a record this version wrote (its checksum held,
 * so it is what was written — by something else).
 */
export function decodeSpoolRecord(data: Buffer): SpooledGroup[] | Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch (error) {
    return new Error(`not JSON: ${(error as Error).message}`);
  }
  const record = parsed as Partial<RecordV1> | null;
  if (
    !record ||
    typeof record !== 'object' ||
    record.v !== VERSION ||
    !Array.isArray(record.groups)
  )
    return new Error(`not a version ${VERSION} spool record`);
  const groups: SpooledGroup[] = [];
  for (const g of record.groups as unknown[]) {
    const group = g as Partial<RecordV1['groups'][number]> | null;
    if (
      !group ||
      typeof group.t !== 'string' ||
      !Array.isArray(group.l) ||
      !group.l.every((line) => typeof line === 'string') ||
      (group.p !== undefined && typeof group.p !== 'string') ||
      (group.r !== undefined && typeof group.r !== 'number')
    )
      return new Error('a group of the record is malformed');
    groups.push({
      lines: group.l,
      topic: group.t,
      ...(group.p !== undefined ? { park: group.p } : {}),
      ...(group.r !== undefined ? { receivedAt: group.r } : {}),
    });
  }
  return groups;
}
