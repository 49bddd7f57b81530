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
 * The points as line protocol at millisecond precision, one line each; a point without fields
 * (which InfluxDB would refuse) is left out, as the WriteApi does. For keeping points as text —
 * the disk spool — and writing them later with `InfluxStore.writeLines`.
 */
export function toLineProtocol(points: readonly Point[]): string[] {
  const lines: string[] = [];
  for (const point of points) {
    const line = point.toLineProtocol(MS);
    if (line) lines.push(line);
  }
  return lines;
}
