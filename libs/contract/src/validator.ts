import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { ASSET_TYPES, getAssetType, type AssetTypeSpec, type Channel } from '@parkpulse/telemetry';
import {
  ANNOTATION_KEYWORDS,
  COMMAND_SCHEMA_ID,
  commandResultSchema,
  commandSchema,
  eventSchema,
  statusSchema,
  telemetrySchema,
  type JsonSchema,
} from './schemas.js';

/** One way a payload breaks its schema. */
export interface SchemaViolation {
  /** JSON Pointer into the payload (`/samples/3/metrics/spindle_rpm`), `` for the whole. */
  readonly path: string;
  /** The schema keyword that failed (`type`, `maximum`, `enum`, `required`…; `json` = not JSON). */
  readonly keyword: string;
  readonly message: string;
}

export interface SchemaVerdict {
  readonly valid: boolean;
  readonly violations: readonly SchemaViolation[];
}

/** Keywords that come from the catalogue's ranges and value sets rather than the envelope. */
const RANGE_KEYWORDS: ReadonlySet<string> = new Set(['minimum', 'maximum', 'enum']);

/**
 * Whether a violation is the catalogue's (a metric's range or value set) rather than the
 * envelope's (types, names, required keys): the first drops a field, the second the message.
 */
export function isCatalogueViolation(v: SchemaViolation): boolean {
  return RANGE_KEYWORDS.has(v.keyword) && /\/metrics\/[^/]+$/.test(v.path);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Validates payloads against the generated schemas with Ajv 8 (draft 2020-12), compiled once
 * per asset type on first use. `unicodeRegExp` and Ajv's default code-point `maxLength` match
 * the ingestion's rules.
 */
export class ContractValidator {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true, unicodeRegExp: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    this.ajv.addVocabulary([...ANNOTATION_KEYWORDS]);
  }

  /**
   * Validates the bytes of one message on `channel` of an asset type (unknown type: generic).
   * `cmd` is what a device receives: a command of its asset type's catalogue.
   */
  validate(channel: Channel, assetType: string, payload: Buffer | string): SchemaVerdict {
    let text: string;
    try {
      text = typeof payload === 'string' ? payload : utf8.decode(payload);
    } catch {
      return invalid('', 'utf8', 'payload is not valid UTF-8');
    }
    let doc: unknown;
    const trimmed = text.trim();
    if (channel === 'status' && (trimmed === 'online' || trimmed === 'offline')) doc = trimmed;
    else {
      try {
        doc = JSON.parse(text);
      } catch (error) {
        return invalid('', 'json', `not JSON: ${(error as Error).message}`);
      }
    }
    return this.validateValue(channel, assetType, doc);
  }

  /** Validates a parsed payload. */
  validateValue(channel: Channel, assetType: string, doc: unknown): SchemaVerdict {
    const fn = this.validatorFor(channel, assetType);
    if (fn(doc)) return { valid: true, violations: [] };
    return { valid: false, violations: simplify(fn.errors ?? []) };
  }

  /** Compiles every schema now (a test of the schemas themselves). */
  compileAll(): void {
    this.validatorFor('status', '');
    this.validatorFor('event', '');
    this.validatorFor('cmd_result', '');
    this.validatorFor('telemetry', '');
    this.validatorFor('cmd', '');
    for (const a of ASSET_TYPES) {
      this.validatorFor('telemetry', a.id);
      this.validatorFor('cmd', a.id);
    }
  }

  private validatorFor(channel: Channel, assetType: string): ValidateFunction {
    const perAssetType = channel === 'telemetry' || channel === 'cmd';
    const asset = perAssetType ? getAssetType(assetType) : undefined;
    const key = perAssetType ? `${channel}:${asset?.id ?? ''}` : channel;
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = this.ajv.compile(this.schemaFor(channel, asset));
      this.compiled.set(key, fn);
    }
    return fn;
  }

  private schemaFor(channel: Channel, asset: AssetTypeSpec | undefined): JsonSchema {
    switch (channel) {
      case 'status':
        return statusSchema();
      case 'event':
        return eventSchema();
      case 'cmd_result':
        return commandResultSchema();
      case 'telemetry':
        return telemetrySchema(asset);
      case 'cmd':
        // One document for every asset type: a known type is checked against its own entry.
        if (!this.ajv.getSchema(COMMAND_SCHEMA_ID)) this.ajv.addSchema(commandSchema());
        return { $ref: asset ? `${COMMAND_SCHEMA_ID}#/$defs/${asset.id}` : COMMAND_SCHEMA_ID };
    }
  }
}

function invalid(path: string, keyword: string, message: string): SchemaVerdict {
  return { valid: false, violations: [{ path, keyword, message }] };
}

/**
 * Ajv reports every branch of an `anyOf` / `if` that failed; keep what a firmware engineer can
 * act on: the deepest errors, without the `anyOf` / `if` wrappers, once each.
 */
function simplify(errors: readonly ErrorObject[]): SchemaViolation[] {
  const seen = new Set<string>();
  const out: SchemaViolation[] = [];
  for (const e of errors) {
    if (e.keyword === 'anyOf' || e.keyword === 'if' || e.keyword === 'not') {
      if (e.keyword !== 'not' || !e.schemaPath.includes('propertyNames')) continue;
    }
    const message = describe(e);
    const id = `${e.instancePath} ${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ path: e.instancePath, keyword: e.keyword, message });
  }
  return out;
}

function describe(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown key "${String(params['additionalProperty'])}"`;
    case 'enum':
      return `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'propertyNames':
      return `${e.instancePath.endsWith('/metrics') ? 'metric ' : ''}name "${String(params['propertyName'])}" is not allowed`;
    case 'false schema':
      return 'not allowed';
    default:
      return e.message ?? e.keyword;
  }
}
