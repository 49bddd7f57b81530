import {
  ASSET_TYPES,
  DEFAULT_LIMITS,
  EVENT_CODE_PATTERN,
  EVENT_SEVERITIES,
  MAX_EVENT_MESSAGE_LENGTH,
  METRIC_NAME_PATTERN,
  RESERVED_NAMES,
  type AssetTypeSpec,
  type MetricSpec,
} from '@parkpulse/telemetry';

/**
 * JSON Schemas (draft 2020-12) of every payload of the telemetry contract v1, generated from
 * the limits and the asset catalogue of `@parkpulse/telemetry`, so that they cannot disagree
 * with the ingestion's validator. One per asset type for telemetry (its metrics named, typed,
 * with units and ranges), one for telemetry of any asset type (the envelope and the generic value
 * rules), one for `status`, one for `event`.
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
/** Event messages: ordinary whitespace (TAB, LF, CR) allowed; other C0, DEL, C1 refused. */
const FREE_TEXT_PATTERN = '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$';

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

const genericValue = {
  description: `A metric the catalogue does not list: a finite number (stored as float), a boolean, a string of at most ${DEFAULT_LIMITS.maxStringLength} characters (Unicode code points) without control characters, or null (no reading).`,
  anyOf: [
    { type: 'number' },
    { type: 'boolean' },
    {
      type: 'string',
      maxLength: DEFAULT_LIMITS.maxStringLength,
      pattern: STRING_VALUE_PATTERN,
    },
    { type: 'null' },
  ],
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
        description: `At most ${MAX_EVENT_MESSAGE_LENGTH} characters (Unicode code points). Tab, LF and CR are allowed; other control characters (C0, DEL, C1) are not.`,
        type: 'string',
        maxLength: MAX_EVENT_MESSAGE_LENGTH,
        pattern: FREE_TEXT_PATTERN,
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
  put('telemetry.schema.json', telemetrySchema());
  for (const asset of ASSET_TYPES) put(`telemetry/${asset.id}.schema.json`, telemetrySchema(asset));
  return files;
}
