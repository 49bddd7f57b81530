import {
  ASSET_COMMANDS,
  ASSET_TYPES,
  COMMAND_ID_PATTERN,
  COMMAND_NAME_PATTERN,
  COMMAND_REASON_PATTERN,
  COMMAND_RESULT_STATUSES,
  DEFAULT_LIMITS,
  EVENT_CODE_PATTERN,
  EVENT_SEVERITIES,
  MAX_COMMAND_MESSAGE_LENGTH,
  MAX_COMMAND_RESULT_BYTES,
  MAX_EVENT_MESSAGE_LENGTH,
  METRIC_NAME_PATTERN,
  RESERVED_NAMES,
  type AssetTypeSpec,
  type CommandParamSpec,
  type CommandSpec,
  type MetricSpec,
} from '@parkpulse/telemetry';

/**
 * JSON Schemas (draft 2020-12) of every payload of the telemetry contract v1, generated from
 * the limits and the asset catalogue of `@parkpulse/telemetry`, so that they cannot disagree
 * with the ingestion's validator. One per asset type for telemetry (its metrics named, typed,
 * with units and ranges), one for telemetry of any asset type (the envelope and the generic value
 * rules), one for `status`, one for `event`, and for commands (§5b) one for `cmd` (what the
 * operations service sends: every command of the catalogue with its parameter ranges, per asset
 * type) and one for `cmd_result` (a device's answer).
 *
 * What a schema cannot say, the contract page does: the `ts` window relative to the receive
 * time (7 d back, 5 min ahead), the payload size in bytes, that a sample needs at least one
 * non-null value left after the catalogue checks.
 */
export type JsonSchema = Record<string, unknown>;

export const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
export const SCHEMA_ID_PREFIX = 'urn:parkpulse:contract:v1';
/** Our annotation keywords (JSON Schema ignores unknown keywords; validators must be told). */
export const ANNOTATION_KEYWORDS = ['x-unit', 'x-kind', 'x-parkpulse'] as const;

/**
 * A number below 10^11 cannot be epoch milliseconds inside the accepted window (it is March
 * 1973): it is nearly always seconds. The window itself is relative to the receive time.
 */
export const MIN_EPOCH_MS = 100_000_000_000;

const RFC3339_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})$';
/** String metric values: no C0 control character, no DEL (line protocol and terminals). */
const STRING_VALUE_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';
/**
 * Free text (an event's or a command result's `message`): ordinary whitespace (TAB, LF, CR)
 * allowed; other C0, DEL, C1 and unpaired surrogates refused. Patterns are Unicode regular
 * expressions, so a surrogate pair is one character (not in the range) and a lone half is one.
 */
const FREE_TEXT_PATTERN =
  '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$';

export function telemetrySchemaId(assetType?: string): string {
  return `${SCHEMA_ID_PREFIX}:telemetry${assetType ? `:${assetType}` : ''}`;
}

const ts = {
  description:
    'Sample time: epoch milliseconds (a number ≥ 10^11; fractions are floored) or an RFC 3339 string with seconds and an offset. Missing or null: the receive time (then a redelivery is stored twice). Must lie within [receive time − 7 d, receive time + 5 min].',
  anyOf: [
    { type: 'number', minimum: MIN_EPOCH_MS },
    { type: 'string', pattern: RFC3339_PATTERN },
    { type: 'null' },
  ],
};

const seq = {
  description:
    'Optional sequence number: monotonic per device, kept across reboots (the delivery ledger counts gaps and duplicates from it).',
  type: ['integer', 'null'],
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
};

/** A string value of the contract (a string metric, a command result's value). */
const plainString = {
  type: 'string',
  maxLength: DEFAULT_LIMITS.maxStringLength,
  pattern: STRING_VALUE_PATTERN,
};

const genericValue = {
  description: `A metric the catalogue does not list: a finite number (stored as float), a boolean, a string of at most ${DEFAULT_LIMITS.maxStringLength} characters (Unicode code points) without control characters, or null (no reading).`,
  anyOf: [{ type: 'number' }, { type: 'boolean' }, plainString, { type: 'null' }],
};

function metricSchema(name: string, spec: MetricSpec): JsonSchema {
  const common = {
    description: spec.description,
    'x-kind': spec.kind,
    ...(spec.unit ? { 'x-unit': spec.unit } : {}),
  };
  switch (spec.kind) {
    case 'gauge':
    case 'counter':
      return {
        ...common,
        type: ['number', 'null'],
        ...(spec.min !== undefined ? { minimum: spec.min } : {}),
        ...(spec.max !== undefined ? { maximum: spec.max } : {}),
      };
    case 'boolean':
      return { ...common, type: ['boolean', 'null'] };
    case 'enum':
      if (!spec.values?.length) throw new Error(`enum metric ${name} has no values`);
      return { ...common, enum: [...spec.values, null] };
  }
}

function metrics(asset?: AssetTypeSpec): JsonSchema {
  const names = {
    pattern: METRIC_NAME_PATTERN.source,
    not: { enum: [...RESERVED_NAMES] },
  };
  return {
    description: asset
      ? `Readings of a ${asset.name}. Listed metrics are checked against the catalogue (a value outside it is dropped with a reason); other names are stored after the generic checks. null = no reading.`
      : 'Readings: metric name → value. null = no reading.',
    type: 'object',
    minProperties: 1,
    propertyNames: names,
    ...(asset
      ? {
          properties: Object.fromEntries(
            Object.entries(asset.metrics).map(([name, spec]) => [name, metricSchema(name, spec)]),
          ),
        }
      : {}),
    additionalProperties: { $ref: '#/$defs/genericValue' },
  };
}

function sample(): JsonSchema {
  return {
    type: 'object',
    required: ['metrics'],
    properties: {
      ts: { $ref: '#/$defs/ts' },
      seq: { $ref: '#/$defs/seq' },
      metrics: { $ref: '#/$defs/metrics' },
    },
    // The ingestion ignores other keys; refusing them here catches `timestamp` for `ts`.
    additionalProperties: false,
  };
}

/** The telemetry schema of one asset type, or of any asset type (envelope and generic values). */
export function telemetrySchema(asset?: AssetTypeSpec): JsonSchema {
  const what = asset ? `${asset.id} (${asset.name})` : 'any asset type';
  return {
    $schema: SCHEMA_DIALECT,
    $id: telemetrySchemaId(asset?.id),
    title: `ParkPulse telemetry v1: ${what}`,
    description: `Payload of parks/{park}/{site}/${asset?.id ?? '{assetType}'}/{deviceId}/telemetry: one sample, or a batch {"samples": [...]} of 1 to ${DEFAULT_LIMITS.maxBatchSamples} samples, at most ${DEFAULT_LIMITS.maxPayloadBytes} bytes of UTF-8 JSON.${asset ? ` Normal report interval ${asset.reportIntervalS} s.` : ''}`,
    ...(asset
      ? {
          'x-parkpulse': {
            assetType: asset.id,
            parks: [...asset.parks],
            reportIntervalS: asset.reportIntervalS,
          },
        }
      : {}),
    // The decoder's own rule: an object with a `samples` key is a batch.
    if: { type: 'object', properties: { samples: true }, required: ['samples'] },
    then: { $ref: '#/$defs/batch' },
    else: { $ref: '#/$defs/sample' },
    $defs: {
      batch: {
        type: 'object',
        required: ['samples'],
        properties: {
          samples: {
            type: 'array',
            minItems: 1,
            maxItems: DEFAULT_LIMITS.maxBatchSamples,
            items: { $ref: '#/$defs/sample' },
          },
        },
        additionalProperties: false,
      },
      sample: sample(),
      ts,
      seq,
      metrics: metrics(asset),
      genericValue,
    },
  };
}

export function statusSchema(): JsonSchema {
  return {
    $schema: SCHEMA_DIALECT,
    $id: `${SCHEMA_ID_PREFIX}:status`,
    title: 'ParkPulse status v1',
    description:
      'Payload of …/{deviceId}/status, published retained at QoS 1 after each connect and set as the last will ("offline", QoS 1, retained). Either the plain text online / offline (sent without quotes; validate it as the JSON string it spells) or a JSON object {"ts", "state"}.',
    anyOf: [
      {
        enum: ['online', 'offline'],
        description: 'the plain-text form, stored with the receive time',
      },
      {
        type: 'object',
        required: ['state'],
        properties: { ts, state: { enum: ['online', 'offline'] } },
        additionalProperties: false,
      },
    ],
  };
}

export function eventSchema(): JsonSchema {
  return {
    $schema: SCHEMA_DIALECT,
    $id: `${SCHEMA_ID_PREFIX}:event`,
    title: 'ParkPulse event v1',
    description: 'Payload of …/{deviceId}/event.',
    type: 'object',
    required: ['code', 'severity'],
    properties: {
      ts,
      code: {
        description: 'Stored as a tag: keep the set of codes small and stable.',
        type: 'string',
        pattern: EVENT_CODE_PATTERN.source,
      },
      severity: { enum: [...EVENT_SEVERITIES] },
      message: {
        description: `At most ${MAX_EVENT_MESSAGE_LENGTH} characters (Unicode code points). Tab, LF and CR are allowed; other control characters (C0, DEL, C1) and unpaired surrogates are not.`,
        type: 'string',
        maxLength: MAX_EVENT_MESSAGE_LENGTH,
        pattern: FREE_TEXT_PATTERN,
      },
    },
    additionalProperties: false,
  };
}

export const COMMAND_SCHEMA_ID = `${SCHEMA_ID_PREFIX}:cmd`;
export const COMMAND_RESULT_SCHEMA_ID = `${SCHEMA_ID_PREFIX}:cmd_result`;

/** Commands by asset type id, then by command name (the shape of `ASSET_COMMANDS`). */
export type CommandCatalogue = Readonly<Record<string, Readonly<Record<string, CommandSpec>>>>;

function commandParamSchema(name: string, p: CommandParamSpec): JsonSchema {
  switch (p.kind) {
    case 'number':
      return {
        description: p.description,
        ...(p.unit ? { 'x-unit': p.unit } : {}),
        type: p.integer ? 'integer' : 'number',
        minimum: p.min,
        maximum: p.max,
      };
    case 'boolean':
      return { description: p.description, type: 'boolean' };
    case 'enum':
      if (!p.values.length) throw new Error(`enum parameter ${name} has no values`);
      return { description: p.description, type: 'string', enum: [...p.values] };
  }
}

/** The `params` of one command: every parameter required, nothing else. */
function commandParamsSchema(assetType: string, spec: CommandSpec): JsonSchema {
  const names = Object.keys(spec.params);
  return {
    description: spec.description,
    'x-parkpulse': { assetType, typicalDurationS: spec.typicalDurationS },
    type: 'object',
    ...(names.length > 0 ? { required: names } : {}),
    properties: Object.fromEntries(
      Object.entries(spec.params).map(([key, p]) => [key, commandParamSchema(key, p)]),
    ),
    additionalProperties: false,
  };
}

const paramsDef = (assetType: string, name: string) => `#/$defs/${assetType}.${name}`;

/** When the command is `name`, its `params` must be valid against `params`. */
function whenCommand(name: string, params: JsonSchema): JsonSchema {
  return {
    if: { type: 'object', properties: { name: { const: name } }, required: ['name'] },
    then: { type: 'object', properties: { params } },
  };
}

/**
 * The schema of `cmd`: the envelope (`$defs/envelope`), one entry per asset type (its command
 * names, and each command's `params` from its `$defs/{assetType}.{command}`), and a root that
 * accepts a command of any asset type. The catalogue is `ASSET_COMMANDS` unless given.
 */
export function commandSchema(catalogue: CommandCatalogue = ASSET_COMMANDS): JsonSchema {
  for (const assetType of Object.keys(catalogue))
    if (!ASSET_TYPES.some((a) => a.id === assetType))
      throw new Error(`commands for unknown asset type ${assetType}`);
  const commandsFor = (assetType: string) =>
    Object.hasOwn(catalogue, assetType) ? catalogue[assetType]! : {};
  const byName = new Map<string, string[]>();
  const defs: Record<string, JsonSchema> = {};
  for (const asset of ASSET_TYPES) {
    const commands = Object.entries(commandsFor(asset.id));
    const what = `${asset.id} (${asset.name})`;
    defs[asset.id] =
      commands.length === 0
        ? {
            description: `A command to ${what}: it accepts none.`,
            $ref: '#/$defs/envelope',
            type: 'object',
            properties: { name: false },
          }
        : {
            description: `A command to ${what}.`,
            $ref: '#/$defs/envelope',
            type: 'object',
            properties: { name: { enum: commands.map(([name]) => name) } },
            allOf: commands.map(([name]) => whenCommand(name, { $ref: paramsDef(asset.id, name) })),
          };
    for (const [name, spec] of commands) {
      if (!COMMAND_NAME_PATTERN.test(name))
        throw new Error(`command ${asset.id}.${name} must match ${COMMAND_NAME_PATTERN.source}`);
      defs[`${asset.id}.${name}`] = commandParamsSchema(asset.id, spec);
      byName.set(name, [...(byName.get(name) ?? []), asset.id]);
    }
  }
  return {
    $schema: SCHEMA_DIALECT,
    $id: COMMAND_SCHEMA_ID,
    title: 'ParkPulse command v1',
    description: `Payload of parks/{park}/{site}/{assetType}/{deviceId}/cmd, published by the operations service at QoS 1 (a device only receives it): one command of the catalogue, every parameter given and in range. A device of asset type T receives only the commands of #/$defs/T; this root accepts a command of any asset type. After expiresAt the device must not act (it answers rejected, reason expired); the same id twice is a redelivery. The device answers on …/cmd_result (cmd_result.schema.json).`,
    $ref: '#/$defs/envelope',
    type: 'object',
    properties: { name: { enum: [...byName.keys()] } },
    allOf: [...byName].map(([name, assetTypes]) =>
      whenCommand(
        name,
        assetTypes.length === 1
          ? { $ref: paramsDef(assetTypes[0]!, name) }
          : { anyOf: assetTypes.map((t) => ({ $ref: paramsDef(t, name) })) },
      ),
    ),
    $defs: {
      envelope: {
        type: 'object',
        required: ['id', 'name', 'params', 'expiresAt', 'issuedAt'],
        properties: {
          id: {
            description:
              'Unique command id: the device answers with it, and treats a repeat as a redelivery (it does not act twice).',
            type: 'string',
            pattern: COMMAND_ID_PATTERN.source,
          },
          name: {
            description: 'The command, as the catalogue names it for the asset type.',
            type: 'string',
            pattern: COMMAND_NAME_PATTERN.source,
          },
          params: {
            description:
              'Every parameter of the command (all are required; {} for a command without parameters).',
            type: 'object',
          },
          expiresAt: {
            description: 'Epoch milliseconds: the device must not act on the command after this.',
            type: 'integer',
            minimum: MIN_EPOCH_MS,
          },
          issuedAt: {
            description: 'Epoch milliseconds: when the command was created.',
            type: 'integer',
            minimum: MIN_EPOCH_MS,
          },
        },
        additionalProperties: false,
      },
      ...defs,
    },
  };
}

export function commandResultSchema(): JsonSchema {
  const windowMin = DEFAULT_LIMITS.maxFutureMs / 60_000;
  return {
    $schema: SCHEMA_DIALECT,
    $id: COMMAND_RESULT_SCHEMA_ID,
    title: 'ParkPulse command result v1',
    description: `Payload of parks/{park}/{site}/{assetType}/{deviceId}/cmd_result, published by the device at QoS 1: its answer to a command received on …/cmd (cmd.schema.json), at most ${MAX_COMMAND_RESULT_BYTES} bytes of UTF-8 JSON. Optionally accepted first, then one of done, failed, rejected.`,
    type: 'object',
    required: ['id', 'status'],
    properties: {
      id: {
        description: 'The id of the command answered.',
        type: 'string',
        pattern: COMMAND_ID_PATTERN.source,
      },
      status: {
        description:
          'accepted: working on it (optional); done; failed: tried, did not work; rejected: will not (e.g. expired).',
        enum: [...COMMAND_RESULT_STATUSES],
      },
      result: {
        description: `What the device reports back, a flat object of plain values: a finite number, a boolean, or a string of at most ${DEFAULT_LIMITS.maxStringLength} characters (Unicode code points) without control characters (the rule of a string metric). Missing or null: nothing.`,
        type: ['object', 'null'],
        propertyNames: { pattern: COMMAND_NAME_PATTERN.source },
        additionalProperties: { anyOf: [{ type: 'number' }, { type: 'boolean' }, plainString] },
      },
      reason: {
        description:
          'Why, with failed or rejected: a code such as wrong_state, param_out_of_range, expired. Missing, null or empty: none.',
        type: ['string', 'null'],
        pattern: `^$|${COMMAND_REASON_PATTERN.source}`,
      },
      message: {
        description: `Free text for people: at most ${MAX_COMMAND_MESSAGE_LENGTH} characters (Unicode code points). Tab, LF and CR are allowed; other control characters (C0, DEL, C1) and unpaired surrogates are not. Missing or null: empty.`,
        type: ['string', 'null'],
        maxLength: MAX_COMMAND_MESSAGE_LENGTH,
        pattern: FREE_TEXT_PATTERN,
      },
      ts: {
        description: `When the device answered: epoch milliseconds (a number ≥ 0; fractions are floored) or an RFC 3339 string with seconds and an offset. Missing or null, or more than ${windowMin} min from the receive time: the receive time is kept (a clock that is off is not refused here).`,
        anyOf: [
          { type: 'number', minimum: 0 },
          { type: 'string', pattern: RFC3339_PATTERN },
          { type: 'null' },
        ],
      },
    },
    additionalProperties: false,
  };
}

/** Where the committed schemas live, relative to the repository root. */
export const SCHEMA_DIR = 'docs/schemas';

/** Every schema file: path (relative to the repository root) → its JSON text. */
export function generateSchemas(): Map<string, string> {
  const files = new Map<string, string>();
  const put = (name: string, schema: JsonSchema) =>
    files.set(`${SCHEMA_DIR}/${name}`, `${JSON.stringify(schema, null, 2)}\n`);
  put('status.schema.json', statusSchema());
  put('event.schema.json', eventSchema());
  put('cmd.schema.json', commandSchema());
  put('cmd_result.schema.json', commandResultSchema());
  put('telemetry.schema.json', telemetrySchema());
  for (const asset of ASSET_TYPES) put(`telemetry/${asset.id}.schema.json`, telemetrySchema(asset));
  return files;
}
