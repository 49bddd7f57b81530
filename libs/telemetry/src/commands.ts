import { commandsOf, type CommandParamSpec } from './catalogue/commands.js';
import type { DecodeContext } from './decoders/decoder.js';
import { fail, ok, type Result } from './errors.js';
import { freeTextProblem } from './text.js';
import { parseTimestamp } from './timestamp.js';
import type { ParsedTopic } from './topic.js';
import { checkStringValue } from './validate.js';

/**
 * Commands on the wire (telemetry contract §5b). Down, on `…/{deviceId}/cmd` (QoS 1):
 * `{"id", "name", "params", "expiresAt", "issuedAt"}`. Up, on `…/{deviceId}/cmd_result` (QoS 1):
 * `{"id", "status": "accepted|done|failed|rejected", "result"?, "reason"?, "message"?, "ts"?}`.
 */
export type CommandParams = Readonly<Record<string, number | boolean | string>>;

export interface CommandMessage {
  /** Unique command id (`^[A-Za-z0-9_-]{1,64}$`): the device answers with it, and ignores a repeat. */
  readonly id: string;
  readonly name: string;
  readonly params: CommandParams;
  /** Epoch ms: a device must not act on a command after this time. */
  readonly expiresAt: number;
  readonly issuedAt: number;
}

/**
 * The broker publishes `{COMMAND_DELIVERIES_TOPIC_ROOT}/{deviceId}` with `{"id", "deviceId",
 * "topic", "at"}` when a device has acknowledged (PUBACK) a command delivered to it.
 */
export const COMMAND_DELIVERIES_TOPIC_ROOT = '$parkpulse/command-deliveries';

export interface CommandDeliveryNotice {
  readonly id: string;
  readonly deviceId: string;
  readonly topic: string;
  /** Epoch ms of the device's PUBACK. */
  readonly at: number;
}

/**
 * For every device whose CONNECT it accepted (no service account), the broker publishes
 * `{CONNECTIONS_TOPIC_ROOT}/{clientId}` — retained (a watcher that subscribes later still gets
 * it; the latest connect replaces it) and QoS 1 — with what the device asked for in its CONNECT:
 * what another client cannot otherwise observe (keep-alive, the will's QoS and retain flag).
 * Never a credential, nor the will's payload (only its size). Only the broker publishes there.
 */
export const CONNECTIONS_TOPIC_ROOT = '$parkpulse/connections';

export interface ConnectionNotice {
  readonly clientId: string;
  /** The CONNECT's keep-alive, seconds (the broker refuses 0 and more than its limit, 1,200 s). */
  readonly keepaliveS: number;
  /** The clean-session flag. */
  readonly clean: boolean;
  /** MQTT protocol level: 4 = 3.1.1, 3 = 3.1. */
  readonly protocolVersion: number;
  /** The last will, or null when the CONNECT set none. */
  readonly will: {
    readonly topic: string;
    readonly qos: number;
    readonly retain: boolean;
    readonly payloadBytes: number;
  } | null;
  /** Epoch ms at which the broker accepted the connection. */
  readonly connectedAt: number;
}

export const COMMAND_RESULT_STATUSES = ['accepted', 'done', 'failed', 'rejected'] as const;
export type CommandResultStatus = (typeof COMMAND_RESULT_STATUSES)[number];

export const COMMAND_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const COMMAND_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
/** Reason codes a device gives with `rejected` / `failed` (free-form, but this shape). */
export const COMMAND_REASON_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Longest `message` of a command result, in characters (Unicode code points). */
export const MAX_COMMAND_MESSAGE_LENGTH = 512;
export const MAX_COMMAND_RESULT_BYTES = 4096;

export interface CommandResultMessage {
  readonly topic: ParsedTopic;
  readonly id: string;
  readonly status: CommandResultStatus;
  /** What the device reports back (a small flat object of values), when it has anything. */
  readonly result: CommandParams;
  readonly reason: string;
  readonly message: string;
  readonly ts: number;
}

/** Why a command cannot be sent as asked (the API answers 400/422 with the code). */
export type CommandCheckCode =
  | 'unknown_command'
  | 'params_invalid'
  | 'param_missing'
  | 'param_unknown'
  | 'param_wrong_type'
  | 'param_out_of_range'
  | 'param_not_integer'
  | 'param_not_in_enum';

export type CommandCheck =
  | { readonly ok: true; readonly params: CommandParams }
  | { readonly ok: false; readonly code: CommandCheckCode; readonly detail: string };

/** Checks a command against the catalogue: known for the asset type, every parameter in range. */
export function checkCommand(assetType: string, name: string, params: unknown): CommandCheck {
  const commands = commandsOf(assetType);
  // Own properties only: a command called `constructor` must not find Object's.
  const spec = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!spec) {
    const known = Object.keys(commands);
    return {
      ok: false,
      code: 'unknown_command',
      detail: `"${name}" is not a command of ${assetType}${known.length ? ` (known: ${known.join(', ')})` : ' (it accepts none)'}`,
    };
  }
  const given = params ?? {};
  if (typeof given !== 'object' || Array.isArray(given))
    return { ok: false, code: 'params_invalid', detail: 'params must be a JSON object' };
  const values = given as Record<string, unknown>;
  for (const key of Object.keys(values))
    if (!Object.hasOwn(spec.params, key))
      return {
        ok: false,
        code: 'param_unknown',
        detail: `${name} has no parameter "${key}"`,
      };
  const out: Record<string, number | boolean | string> = {};
  for (const [key, p] of Object.entries(spec.params)) {
    if (!Object.hasOwn(values, key))
      return { ok: false, code: 'param_missing', detail: `${name} needs "${key}"` };
    const problem = checkParam(key, p, values[key]);
    if (problem) return problem;
    out[key] = values[key] as number | boolean | string;
  }
  return { ok: true, params: out };
}

function checkParam(
  key: string,
  p: CommandParamSpec,
  value: unknown,
): (CommandCheck & { ok: false }) | undefined {
  switch (p.kind) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value))
        return { ok: false, code: 'param_wrong_type', detail: `${key} must be a number` };
      if (p.integer && !Number.isInteger(value))
        return { ok: false, code: 'param_not_integer', detail: `${key} must be a whole number` };
      if (value < p.min || value > p.max)
        return {
          ok: false,
          code: 'param_out_of_range',
          detail: `${key} = ${value} is outside [${p.min}, ${p.max}]${p.unit ? ` ${p.unit}` : ''}`,
        };
      return undefined;
    case 'boolean':
      return typeof value === 'boolean'
        ? undefined
        : { ok: false, code: 'param_wrong_type', detail: `${key} must be true or false` };
    case 'enum':
      if (typeof value !== 'string')
        return { ok: false, code: 'param_wrong_type', detail: `${key} must be a string` };
      return p.values.includes(value)
        ? undefined
        : {
            ok: false,
            code: 'param_not_in_enum',
            detail: `${key} "${value}" is not one of ${p.values.join(', ')}`,
          };
  }
}

/** Decodes a device's `cmd_result` message. Anything off the contract is `cmd_result_invalid`. */
export function decodeCommandResult(
  topic: ParsedTopic,
  payload: Buffer,
  ctx: DecodeContext,
): Result<CommandResultMessage> {
  if (payload.length > MAX_COMMAND_RESULT_BYTES)
    return fail(
      'payload_too_large',
      `${payload.length} bytes, at most ${MAX_COMMAND_RESULT_BYTES}`,
    );
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return fail('payload_not_json', (error as Error).message);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return fail('cmd_result_invalid', 'a command result must be a JSON object');
  const { id, status, result, reason, message, ts } = doc as Record<string, unknown>;
  if (typeof id !== 'string' || !COMMAND_ID_PATTERN.test(id))
    return fail('cmd_result_invalid', `id must match ${COMMAND_ID_PATTERN.source}`);
  if (!COMMAND_RESULT_STATUSES.includes(status as CommandResultStatus))
    return fail(
      'cmd_result_invalid',
      `status must be one of ${COMMAND_RESULT_STATUSES.join(', ')}`,
    );
  const values: Record<string, number | boolean | string> = {};
  if (result !== undefined && result !== null) {
    if (typeof result !== 'object' || Array.isArray(result))
      return fail('cmd_result_invalid', 'result must be an object of values');
    for (const [k, v] of Object.entries(result as Record<string, unknown>)) {
      const plain =
        (typeof v === 'number' && Number.isFinite(v)) ||
        typeof v === 'boolean' ||
        typeof v === 'string';
      if (!COMMAND_NAME_PATTERN.test(k) || !plain)
        return fail('cmd_result_invalid', `result.${k.slice(0, 40)}: a name and a plain value`);
      // A string value follows the rule of a string metric (length in code points, no controls).
      const checked = typeof v === 'string' ? checkStringValue(v, ctx.limits) : v;
      if (typeof checked === 'object')
        return fail('cmd_result_invalid', `result.${k}: ${checked.detail}`);
      values[k] = checked;
    }
  }
  const why = reason ?? '';
  if (typeof why !== 'string' || (why !== '' && !COMMAND_REASON_PATTERN.test(why)))
    return fail('cmd_result_invalid', `reason must match ${COMMAND_REASON_PATTERN.source}`);
  const text = message ?? '';
  if (typeof text !== 'string') return fail('cmd_result_invalid', 'message must be a string');
  // The rule of an event's message: code points, tab/LF/CR allowed, other controls refused.
  const problem = freeTextProblem('message', text, MAX_COMMAND_MESSAGE_LENGTH);
  if (problem) return fail('cmd_result_invalid', problem);
  let time = ctx.receivedAt;
  if (ts !== undefined && ts !== null) {
    const parsed = parseTimestamp(ts);
    if (!parsed.ok) return parsed;
    // A device clock far off must not move the record: the receive time stands in then.
    time = Math.abs(parsed.value - ctx.receivedAt) <= ctx.limits.maxFutureMs ? parsed.value : time;
  }
  return ok({
    topic,
    id,
    status: status as CommandResultStatus,
    result: values,
    reason: why,
    message: text,
    ts: time,
  });
}

/** Reads a command as a device receives it (simulators, tests); undefined when it is not one. */
export function parseCommandMessage(payload: Buffer | string): CommandMessage | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const { id, name, params, expiresAt, issuedAt } = doc as Record<string, unknown>;
  if (typeof id !== 'string' || !COMMAND_ID_PATTERN.test(id)) return undefined;
  if (typeof name !== 'string' || typeof expiresAt !== 'number') return undefined;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  return {
    id,
    name,
    params: params as CommandParams,
    expiresAt,
    issuedAt: typeof issuedAt === 'number' ? issuedAt : 0,
  };
}
