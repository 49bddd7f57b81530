import { escape, Point } from '@influxdata/influxdb-client';
import {
  PRESENCE_STATES,
  clipText,
  freeTextForRecord,
  replaceControlChars,
  type CommandResultMessage,
  type EventMessage,
  type FieldValue,
  type LedgerFigures,
  type PresenceState,
  type RejectReason,
  type StatusMessage,
  type TelemetryMessage,
  type TopicAddress,
} from '@parkpulse/telemetry';

/** Measurements the platform writes besides one per asset type. */
export const MEASUREMENT = {
  status: 'device_status',
  event: 'device_event',
  reject: 'ingest_reject',
  ledger: 'device_ledger',
  parkPresence: 'park_presence',
  command: 'device_command',
  alarm: 'alarm_event',
} as const;

/**
 * Telemetry → one point per sample: measurement = asset type, tags park/site/device, fields =
 * metrics (numbers always as floats, so two devices can never conflict on a field's type),
 * `seq` as a float field when the device sent one, timestamp = sample time in ms.
 * Escaping of every name and value is the client's `Point`'s job.
 */
export function telemetryPoints(message: TelemetryMessage): Point[] {
  const { park, site, deviceId, assetType } = message.topic;
  return message.samples.map((sample) => {
    const point = new Point(assetType)
      .tag('park', park)
      .tag('site', site)
      .tag('device', deviceId)
      .timestamp(sample.ts);
    for (const [name, value] of Object.entries(sample.fields)) addField(point, name, value);
    if (sample.seq !== undefined) point.floatField('seq', sample.seq);
    return point;
  });
}

/**
 * The same lines as `toLineProtocol(telemetryPoints(message))`, built without `Point` objects:
 * the ingestion's hot path (one allocation per line instead of a point, its maps and sorts).
 * Tags and fields in the `Point`'s order (sorted by key), its escaping and number formatting,
 * the timestamp in ms.
 */
export function telemetryLines(message: TelemetryMessage): string[] {
  const { park, site, deviceId, assetType } = message.topic;
  const series = `${escape.measurement(assetType)},device=${escape.tag(deviceId)},park=${escape.tag(park)},site=${escape.tag(site)} `;
  const lines: string[] = [];
  for (const sample of message.samples) {
    const names = Object.keys(sample.fields);
    if (sample.seq !== undefined && !('seq' in sample.fields)) names.push('seq');
    names.sort();
    let fields = '';
    for (const name of names) {
      if (!name) continue;
      const value = name === 'seq' && sample.seq !== undefined ? sample.seq : sample.fields[name]!;
      if (fields.length > 0) fields += ',';
      fields += `${escape.tag(name)}=${fieldText(name, value)}`;
    }
    if (fields.length > 0) lines.push(`${series}${fields} ${Math.floor(sample.ts)}`);
  }
  return lines;
}

/** A field's value as `Point` writes it (numbers always floats: see telemetryPoints). */
function fieldText(name: string, value: FieldValue): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new Error(`invalid float value for field '${name}': ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'T' : 'F';
  return escape.quoted(value);
}

/** A point about a device (status, event): tagged with where it is and what it is. */
function devicePoint(measurement: string, topic: TopicAddress): Point {
  return new Point(measurement)
    .tag('park', topic.park)
    .tag('site', topic.site)
    .tag('asset_type', topic.assetType)
    .tag('device', topic.deviceId);
}

/** A device's delivery ledger figures (see DeliveryLedger) as a `device_ledger` point at `ts`. */
export function ledgerPoint(figures: LedgerFigures, ts: number): Point {
  const point = devicePoint(MEASUREMENT.ledger, figures.topic)
    .floatField('received', figures.received)
    .floatField('duplicates', figures.duplicates)
    .floatField('late', figures.late)
    .floatField('resets', figures.resets)
    .floatField('missing', figures.missing)
    .floatField('expected', figures.expected)
    .floatField('completeness', figures.completeness)
    .floatField('clock_regressions', figures.clockRegressions)
    .floatField('since_ms', figures.since)
    .floatField('interval_received', figures.interval.received)
    .floatField('interval_duplicates', figures.interval.duplicates)
    .floatField('interval_late', figures.interval.late)
    .floatField('interval_resets', figures.interval.resets)
    .floatField('interval_clock_regressions', figures.interval.clockRegressions)
    .timestamp(ts);
  if (figures.lastSeq >= 0) point.floatField('last_seq', figures.lastSeq);
  if (figures.lagMs)
    point
      .floatField('lag_p50_ms', figures.lagMs.p50)
      .floatField('lag_p99_ms', figures.lagMs.p99)
      .floatField('lag_max_ms', figures.lagMs.max);
  return point;
}

/** A device's presence state change, as a `presence` field of `device_status`. */
export function presencePoint(topic: TopicAddress, state: PresenceState, ts: number): Point {
  return devicePoint(MEASUREMENT.status, topic).stringField('presence', state).timestamp(ts);
}

/** Devices per presence state in one park, as one ingestion instance sees them. */
export function parkPresencePoint(
  park: string,
  counts: Readonly<Record<PresenceState, number>>,
  instance: string,
  ts: number,
): Point {
  const point = new Point(MEASUREMENT.parkPresence).tag('park', park).tag('instance', instance);
  for (const state of PRESENCE_STATES) point.floatField(state, counts[state]);
  return point.timestamp(ts);
}

export function statusPoint(message: StatusMessage): Point {
  return devicePoint(MEASUREMENT.status, message.topic)
    .booleanField('online', message.online)
    .timestamp(message.ts);
}

export function eventPoint(message: EventMessage): Point {
  return devicePoint(MEASUREMENT.event, message.topic)
    .tag('severity', message.severity)
    .tag('code', message.code)
    .stringField('message', message.message)
    .timestamp(message.ts);
}

export interface RejectRecord {
  readonly ts: number;
  readonly reason: RejectReason | `field_${string}`;
  readonly topic: string;
  readonly detail: string;
  /** The park, when the topic named a known one ("unknown" otherwise). */
  readonly park?: string;
  readonly device?: string;
}

let lastUniqueMs = 0;

/**
 * Now in ms, but never the same value twice in this process: dead letters share their series
 * (`reason`, `park`), and two in one millisecond would otherwise overwrite each other.
 */
export function uniqueNowMs(): number {
  const now = Date.now();
  lastUniqueMs = now > lastUniqueMs ? now : lastUniqueMs + 1;
  return lastUniqueMs;
}

/** A dead letter (or a dropped field) as a point of `ingest_reject`. */
export function rejectPoint(record: RejectRecord): Point {
  const point = new Point(MEASUREMENT.reject)
    .tag('reason', record.reason)
    .tag('park', record.park ?? 'unknown')
    .stringField('topic', clipText(replaceControlChars(record.topic), 256))
    .stringField('detail', clipText(record.detail, 512))
    .timestamp(record.ts);
  if (record.device !== undefined) point.stringField('device', record.device);
  return point;
}

function addField(point: Point, name: string, value: FieldValue): void {
  if (typeof value === 'number') point.floatField(name, value);
  else if (typeof value === 'boolean') point.booleanField(name, value);
  else point.stringField(name, value);
}

/**
 * A command's state change as a `device_command` point: tags where the device is, the command's
 * name, its `status` and who wrote it (`source`: `device` for the device's own `cmd_result`,
 * `operations` for the operations service's record); fields the command `id`, `reason`/`detail`
 * and, from the operations service, `by` (who asked).
 */
export interface CommandRecord {
  readonly topic: TopicAddress;
  readonly id: string;
  /** The command's name (the operations service knows it; a device's result does not carry it). */
  readonly name?: string;
  readonly status: string;
  readonly source: 'device' | 'operations';
  readonly ts: number;
  readonly detail?: string;
  readonly by?: string;
}

export function commandPoint(record: CommandRecord): Point {
  const point = devicePoint(MEASUREMENT.command, record.topic);
  if (record.name) point.tag('command', record.name);
  point
    .tag('status', record.status)
    .tag('source', record.source)
    .stringField('id', record.id)
    .timestamp(record.ts);
  if (record.detail) point.stringField('detail', clipText(freeTextForRecord(record.detail), 512));
  if (record.by) point.stringField('by', record.by);
  return point;
}

/** A device's `cmd_result`, as the ingestion stores it. */
export function commandResultPoint(message: CommandResultMessage): Point {
  const detail = [message.reason, message.message].filter((s) => s !== '').join(': ');
  return commandPoint({
    topic: message.topic,
    id: message.id,
    status: message.status,
    source: 'device',
    ts: message.ts,
    ...(detail ? { detail } : {}),
  });
}

/** One transition of an alarm (or an operator's comment on it), as the operations service records it. */
export interface AlarmEventPointRecord {
  readonly topic: TopicAddress;
  /** The alarm id, `{deviceId}.{tag}`. */
  readonly id: string;
  /** The definition's tag, e.g. `cabinet_temp_c.hihi`. */
  readonly alarm: string;
  readonly priority: string;
  readonly action: string;
  readonly state: string;
  readonly ts: number;
  readonly by: string;
  readonly comment?: string;
  readonly value?: number | boolean | string | null;
}

/**
 * `alarm_event`: tags `alarm`, `priority`, `action`, `state` (what the alarm shows after it);
 * fields `id`, `by`, `comment`, `value` (a number as float, else as text). Grafana draws them
 * as annotations and counts them.
 */
export function alarmEventPoint(record: AlarmEventPointRecord): Point {
  const point = devicePoint(MEASUREMENT.alarm, record.topic)
    .tag('alarm', record.alarm)
    .tag('priority', record.priority)
    .tag('action', record.action)
    .tag('state', record.state)
    .stringField('id', record.id)
    .stringField('by', record.by)
    .timestamp(record.ts);
  if (record.comment)
    point.stringField('comment', clipText(freeTextForRecord(record.comment), 512));
  if (typeof record.value === 'number') point.floatField('value', record.value);
  else if (record.value !== null && record.value !== undefined)
    point.stringField('value_text', String(record.value));
  return point;
}
