import {
  currentTime,
  dateToProtocolTimestamp,
  type Point,
  type PointSettings,
} from '@influxdata/influxdb-client';

/**
 * How the client's WriteApi turns a point's time into millisecond line protocol (its
 * `convertTime` at precision `ms`), so that lines made here equal what `InfluxStore.write` sends.
 */
const MS: Partial<PointSettings> = {
  convertTime(value) {
    if (value === undefined) return currentTime.millis();
    if (typeof value === 'string') return value.length > 0 ? value : undefined;
    if (value instanceof Date) return dateToProtocolTimestamp.ms(value);
    return String(Math.floor(value));
  },
};

/**
 * The points as line protocol at millisecond precision, one line each (a string is a line
 * already); a point without fields
 * (which InfluxDB would refuse) is left out, as the WriteApi does. For keeping points as text —
 * the disk spool — and writing them later with `InfluxStore.writeLines`.
 */
export function toLineProtocol(points: readonly (Point | string)[]): string[] {
  const lines: string[] = [];
  for (const point of points) {
    // Lines already made (telemetryLines) pass as they are.
    const line = typeof point === 'string' ? point : point.toLineProtocol(MS);
    if (line) lines.push(line);
  }
  return lines;
}

/** What {@link readSeqAndTime} finds in a line. */
export interface LineSeqAndTime {
  readonly measurement: string;
  /** The `seq` field; undefined when the line has none. */
  readonly seq?: number;
  /** The timestamp (ms precision lines), undefined when the line has none. */
  readonly ts?: number;
}

/**
 * The measurement, `seq` field and timestamp of one line of line protocol (as written by
 * {@link toLineProtocol}), or undefined when the line cannot be read. For the delivery ledger,
 * which learns from the spool's replay which samples reached InfluxDB. Honours the escapes of
 * names (`\ `, `\,`, `\=`) and quoted string values (`\"`, `\\`).
 */
export function readSeqAndTime(line: string): LineSeqAndTime | undefined {
  let i = 0;
  const n = line.length;
  let measurement = '';
  // Series key: measurement[,tag=value…] up to the first unescaped space.
  let inMeasurement = true;
  for (; i < n; i++) {
    const c = line[i]!;
    if (c === '\\') {
      if (inMeasurement) measurement += line[i + 1] ?? '';
      i++;
      continue;
    }
    if (c === ' ') break;
    if (c === ',') inMeasurement = false;
    else if (inMeasurement) measurement += c;
  }
  if (i >= n) return undefined;
  i++;
  let seq: number | undefined;
  // Field set: key=value pairs separated by commas, up to the first unescaped, unquoted space.
  while (i < n) {
    let key = '';
    for (; i < n && line[i] !== '='; i++) {
      if (line[i] === '\\') i++;
      key += line[i] ?? '';
    }
    i++; // '='
    let value = '';
    if (line[i] === '"') {
      for (i++; i < n && line[i] !== '"'; i++) if (line[i] === '\\') i++;
      i++; // closing quote
    } else for (; i < n && line[i] !== ',' && line[i] !== ' '; i++) value += line[i];
    if (key === 'seq') seq = Number(value.replace(/i$/, ''));
    if (line[i] === ',') {
      i++;
      continue;
    }
    break;
  }
  const rest = line.slice(i + 1).trim();
  const ts = rest ? Number(rest) : undefined;
  return {
    measurement,
    ...(seq !== undefined && Number.isFinite(seq) ? { seq } : {}),
    ...(ts !== undefined && Number.isFinite(ts) ? { ts } : {}),
  };
}
