import type { DecodeContext, PayloadDecoder } from './decoders/decoder.js';
import { jsonV1Decoder } from './decoders/json-v1/json-v1.decoder.js';
import { fail, ok, type Result } from './errors.js';
import {
  EVENT_CODE_PATTERN,
  EVENT_SEVERITIES,
  MAX_EVENT_MESSAGE_LENGTH,
  type EventSeverity,
} from './limits.js';
import type { EventMessage, FieldDrop, Sample, StatusMessage, TelemetryMessage } from './model.js';
import { checkWindow, parseTimestamp } from './timestamp.js';
import { freeTextProblem } from './text.js';
import type { ParsedTopic } from './topic.js';
import { validateSample } from './validate.js';

function checkSize(payload: Buffer, ctx: DecodeContext): Result<Buffer> {
  return payload.length > ctx.limits.maxPayloadBytes
    ? fail('payload_too_large', `${payload.length} bytes, at most ${ctx.limits.maxPayloadBytes}`)
    : ok(payload);
}

/** Decodes and validates a `telemetry` message: the samples to store and the fields dropped. */
export function decodeTelemetry(
  topic: ParsedTopic,
  payload: Buffer,
  ctx: DecodeContext,
  decoder: PayloadDecoder = jsonV1Decoder,
): Result<TelemetryMessage> {
  const sized = checkSize(payload, ctx);
  if (!sized.ok) return sized;
  const dropped: FieldDrop[] = [];
  const raw = decoder.decode(payload, { ...ctx, dropped });
  if (!raw.ok) return raw;
  const samples: Sample[] = [];
  for (const r of raw.value) {
    const sample = validateSample(topic.asset, r, ctx.limits, dropped);
    if (!sample.ok) return sample;
    if (Object.keys(sample.value.fields).length > 0) samples.push(sample.value);
  }
  if (samples.length === 0) {
    const why =
      dropped.length > 0 ? dropped.map((d) => `${d.metric}: ${d.reason}`).join('; ') : 'no metrics';
    return fail('no_valid_fields', why);
  }
  return ok({ topic, samples, dropped });
}

/**
 * Decodes a `status` message: the plain text `online` / `offline` (what a last will carries), or
 * JSON `{"ts", "state": "online" | "offline"}`.
 */
export function decodeStatus(
  topic: ParsedTopic,
  payload: Buffer,
  ctx: DecodeContext,
): Result<StatusMessage> {
  const sized = checkSize(payload, ctx);
  if (!sized.ok) return sized;
  const text = payload.toString('utf8').trim();
  if (text === 'online' || text === 'offline')
    return ok({ topic, online: text === 'online', ts: ctx.receivedAt });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail('status_invalid', 'status must be "online", "offline" or JSON {"ts", "state"}');
  }
  if (typeof doc !== 'object' || doc === null)
    return fail('status_invalid', 'status JSON must be an object');
  const { state, ts } = doc as Record<string, unknown>;
  if (state !== 'online' && state !== 'offline')
    return fail('status_invalid', 'state must be "online" or "offline"');
  const time = readTs(ts, ctx);
  return time.ok ? ok({ topic, online: state === 'online', ts: time.value }) : time;
}

/** Decodes an `event` message: `{"ts", "code", "severity": "info|warning|critical", "message"}`. */
export function decodeEvent(
  topic: ParsedTopic,
  payload: Buffer,
  ctx: DecodeContext,
): Result<EventMessage> {
  const sized = checkSize(payload, ctx);
  if (!sized.ok) return sized;
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return fail('payload_not_json', (error as Error).message);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return fail('event_invalid', 'event must be a JSON object');
  const { ts, code, severity, message } = doc as Record<string, unknown>;
  if (typeof code !== 'string' || !EVENT_CODE_PATTERN.test(code)) {
    return fail(
      'event_invalid',
      code === undefined
        ? `code is required (${EVENT_CODE_PATTERN.source})`
        : `code must match ${EVENT_CODE_PATTERN.source}`,
    );
  }
  if (!EVENT_SEVERITIES.includes(severity as EventSeverity)) {
    return fail(
      'event_invalid',
      severity === undefined
        ? `severity is required (one of ${EVENT_SEVERITIES.join(', ')})`
        : `severity must be one of ${EVENT_SEVERITIES.join(', ')}`,
    );
  }
  const text = message === undefined ? '' : message;
  if (typeof text !== 'string')
    return fail('event_invalid', `message must be a string, got ${typeName(text)}`);
  const problem = freeTextProblem('message', text, MAX_EVENT_MESSAGE_LENGTH);
  if (problem) return fail('event_invalid', problem);
  const time = readTs(ts, ctx);
  if (!time.ok) return time;
  return ok({ topic, ts: time.value, code, severity: severity as EventSeverity, message: text });
}

function readTs(ts: unknown, ctx: DecodeContext): Result<number> {
  if (ts === undefined || ts === null) return ok(ctx.receivedAt);
  const parsed = parseTimestamp(ts);
  if (!parsed.ok) return parsed;
  return checkWindow(parsed.value, ctx.receivedAt, ctx.limits.maxPastMs, ctx.limits.maxFutureMs);
}

function typeName(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}
