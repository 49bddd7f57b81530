import { fail, ok, type Result } from '../../errors.js';
import { PAYLOAD_TYPE } from './schema.js';

/** Sparkplug B metric datatypes (specification 3.0, "Datatypes"; the `DataType` enum of the .proto). */
export const SPARKPLUG_DATATYPES = {
  Unknown: 0,
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
  PropertySet: 20,
  PropertySetList: 21,
  Int8Array: 22,
  Int16Array: 23,
  Int32Array: 24,
  Int64Array: 25,
  UInt8Array: 26,
  UInt16Array: 27,
  UInt32Array: 28,
  UInt64Array: 29,
  FloatArray: 30,
  DoubleArray: 31,
  BooleanArray: 32,
  StringArray: 33,
  DateTimeArray: 34,
} as const;
export type SparkplugDataTypeName = keyof typeof SPARKPLUG_DATATYPES;

const DATATYPE_NAMES = new Map<number, SparkplugDataTypeName>(
  Object.entries(SPARKPLUG_DATATYPES).map(([name, id]) => [id, name as SparkplugDataTypeName]),
);

/** The name of a datatype id, or undefined for an id the specification does not define. */
export function dataTypeName(id: number): SparkplugDataTypeName | undefined {
  return DATATYPE_NAMES.get(id);
}

/** A metric value as it was on the wire: which member of the `value` oneof, and its content. */
export type WireValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'long'; readonly value: bigint }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'double'; readonly value: number }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bytes'; readonly value: Uint8Array }
  | { readonly kind: 'dataset'; readonly value: SparkplugDataSet }
  | { readonly kind: 'template'; readonly value: SparkplugTemplate };

export interface SparkplugDataSet {
  readonly columns: readonly string[];
  readonly types: readonly number[];
  readonly rows: number;
}

export interface SparkplugTemplate {
  readonly isDefinition: boolean;
  readonly templateRef?: string;
  readonly metrics: readonly SparkplugMetric[];
}

export interface SparkplugMetric {
  readonly name?: string;
  /** uint64 on the wire; refused beyond 2^53 − 1 (no edge node needs more aliases). */
  readonly alias?: number;
  /** Epoch ms. */
  readonly timestamp?: number;
  readonly datatype?: number;
  readonly isHistorical: boolean;
  readonly isTransient: boolean;
  readonly isNull: boolean;
  readonly value?: WireValue;
}

export interface SparkplugPayload {
  /** Epoch ms. */
  readonly timestamp?: number;
  /** 0–255 in every message but NDEATH and commands. */
  readonly seq?: number;
  readonly uuid?: string;
  readonly metrics: readonly SparkplugMetric[];
}

/** Nesting of templates in templates beyond which a payload is refused (a bound on recursion). */
const MAX_TEMPLATE_DEPTH = 8;

interface LongLike {
  readonly low: number;
  readonly high: number;
}

type Decoded = Record<string, unknown>;

/**
 * Bytes → a Sparkplug B payload. Not protobuf, truncated protobuf and values beyond what a
 * timestamp, seq or alias can be are `payload_not_protobuf` / `payload_invalid`; never throws.
 */
export function decodeSparkplugPayload(bytes: Uint8Array): Result<SparkplugPayload> {
  let message: Decoded;
  try {
    message = PAYLOAD_TYPE.decode(bytes);
  } catch (error) {
    return fail(
      'payload_not_protobuf',
      `not a Sparkplug B protobuf payload: ${(error as Error).message}`,
    );
  }
  try {
    const timestamp = optionalSafe(message, 'timestamp', 'payload.timestamp');
    const seq = optionalSafe(message, 'seq', 'payload.seq');
    if (seq !== undefined && seq > 255)
      return fail('payload_invalid', `payload.seq ${seq} is outside 0–255`);
    const metrics = readMetrics(message['metrics'], 'metrics', 0);
    const uuid = message['uuid'];
    return ok({
      ...(timestamp !== undefined ? { timestamp } : {}),
      ...(seq !== undefined ? { seq } : {}),
      ...(typeof uuid === 'string' && has(message, 'uuid') ? { uuid } : {}),
      metrics,
    });
  } catch (error) {
    if (error instanceof PayloadProblem) return fail('payload_invalid', error.message);
    throw error;
  }
}

class PayloadProblem extends Error {}

function readMetrics(list: unknown, where: string, depth: number): SparkplugMetric[] {
  if (!Array.isArray(list)) return [];
  return list.map((m, i) => readMetric(m as Decoded, `${where}[${i}]`, depth));
}

function readMetric(m: Decoded, where: string, depth: number): SparkplugMetric {
  const alias = optionalSafe(m, 'alias', `${where}.alias`);
  const timestamp = optionalSafe(m, 'timestamp', `${where}.timestamp`);
  const value = readValue(m, where, depth);
  // Assigned, not spread: conditional spreads made a temporary object per member of every
  // metric (the decoder's largest own cost under load).
  const out: {
    name?: string;
    alias?: number;
    timestamp?: number;
    datatype?: number;
    isHistorical: boolean;
    isTransient: boolean;
    isNull: boolean;
    value?: WireValue;
  } = {
    isHistorical: m['is_historical'] === true,
    isTransient: m['is_transient'] === true,
    isNull: m['is_null'] === true,
  };
  if (has(m, 'name')) out.name = m['name'] as string;
  if (alias !== undefined) out.alias = alias;
  if (timestamp !== undefined) out.timestamp = timestamp;
  if (has(m, 'datatype')) out.datatype = m['datatype'] as number;
  if (value) out.value = value;
  return out;
}

function readValue(m: Decoded, where: string, depth: number): WireValue | undefined {
  switch (m['value']) {
    case 'int_value':
      return { kind: 'int', value: m['int_value'] as number };
    case 'long_value':
      return { kind: 'long', value: toBigInt(m['long_value']) };
    case 'float_value':
      return { kind: 'float', value: m['float_value'] as number };
    case 'double_value':
      return { kind: 'double', value: m['double_value'] as number };
    case 'boolean_value':
      return { kind: 'boolean', value: m['boolean_value'] as boolean };
    case 'string_value':
      return { kind: 'string', value: m['string_value'] as string };
    case 'bytes_value':
      return { kind: 'bytes', value: m['bytes_value'] as Uint8Array };
    case 'dataset_value': {
      const d = m['dataset_value'] as Decoded;
      return {
        kind: 'dataset',
        value: {
          columns: (d['columns'] as string[] | undefined) ?? [],
          types: (d['types'] as number[] | undefined) ?? [],
          rows: Array.isArray(d['rows']) ? d['rows'].length : 0,
        },
      };
    }
    case 'template_value': {
      if (depth >= MAX_TEMPLATE_DEPTH)
        throw new PayloadProblem(`${where}: templates nested deeper than ${MAX_TEMPLATE_DEPTH}`);
      const t = m['template_value'] as Decoded;
      return {
        kind: 'template',
        value: {
          isDefinition: t['is_definition'] === true,
          ...(has(t, 'template_ref') ? { templateRef: t['template_ref'] as string } : {}),
          metrics: readMetrics(t['metrics'], `${where}.template.metrics`, depth + 1),
        },
      };
    }
    default:
      return undefined;
  }
}

function has(m: Decoded, key: string): boolean {
  // protobufjs puts defaults on the prototype; only own properties were on the wire.
  return Object.hasOwn(m, key);
}

function toBigInt(value: unknown): bigint {
  if (typeof value === 'number') return BigInt(value);
  const { low, high } = value as LongLike;
  return (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
}

function optionalSafe(m: Decoded, key: string, where: string): number | undefined {
  if (!has(m, key)) return undefined;
  const v = m[key];
  // Fast path (every timestamp, seq and alias in practice): a uint64 below 2^53 is exact as a
  // double, no BigInt needed.
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return v;
  } else {
    const { low, high } = v as LongLike;
    if (high >>> 0 < 0x200000) return (high >>> 0) * 0x1_0000_0000 + (low >>> 0);
  }
  const big = toBigInt(v);
  if (big > BigInt(Number.MAX_SAFE_INTEGER))
    throw new PayloadProblem(`${where} ${big} is beyond 2^53 − 1`);
  return Number(big);
}

/** A metric to encode; `value` is read according to `datatype`. */
export interface MetricToEncode {
  readonly name?: string;
  readonly alias?: number;
  readonly timestamp?: number;
  readonly datatype: number;
  readonly value?: number | bigint | boolean | string | Uint8Array | null;
  readonly isHistorical?: boolean;
  readonly isTransient?: boolean;
}

export interface PayloadToEncode {
  readonly timestamp?: number;
  readonly seq?: number;
  readonly uuid?: string;
  readonly metrics: readonly MetricToEncode[];
}

/**
 * A Sparkplug B payload → bytes, each value in the oneof member Eclipse Tahu uses for its
 * datatype (Int8–Int32, UInt8, UInt16 in `int_value`, the signed ones in two's complement;
 * UInt32, Int64, UInt64 and DateTime in `long_value`; Float, Double, Boolean,
 * String/Text/UUID, Bytes/File in theirs), so Tahu's decoder reads them too.
 * For the simulator, the host's commands and tests; arrays, DataSets and Templates are not
 * produced.
 */
export function encodeSparkplugPayload(payload: PayloadToEncode): Buffer {
  const message: Record<string, unknown> = {
    metrics: payload.metrics.map(encodeMetric),
  };
  if (payload.timestamp !== undefined) message['timestamp'] = longBits(payload.timestamp);
  if (payload.seq !== undefined) message['seq'] = longBits(payload.seq);
  if (payload.uuid !== undefined) message['uuid'] = payload.uuid;
  return Buffer.from(PAYLOAD_TYPE.encode(PAYLOAD_TYPE.fromObject(message)).finish());
}

function encodeMetric(metric: MetricToEncode): Record<string, unknown> {
  const out: Record<string, unknown> = { datatype: metric.datatype };
  if (metric.name !== undefined) out['name'] = metric.name;
  if (metric.alias !== undefined) out['alias'] = longBits(metric.alias);
  if (metric.timestamp !== undefined) out['timestamp'] = longBits(metric.timestamp);
  if (metric.isHistorical) out['is_historical'] = true;
  if (metric.isTransient) out['is_transient'] = true;
  const v = metric.value;
  if (v === undefined || v === null) {
    out['is_null'] = true;
    return out;
  }
  const D = SPARKPLUG_DATATYPES;
  switch (metric.datatype) {
    case D.Int8:
    case D.Int16:
    case D.Int32:
    case D.UInt8:
    case D.UInt16:
      out['int_value'] = Number(v) >>> 0;
      break;
    case D.UInt32:
    case D.Int64:
    case D.UInt64:
    case D.DateTime:
      out['long_value'] = longBits(typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v))));
      break;
    case D.Float:
      out['float_value'] = Number(v);
      break;
    case D.Double:
      out['double_value'] = Number(v);
      break;
    case D.Boolean:
      out['boolean_value'] = Boolean(v);
      break;
    case D.String:
    case D.Text:
    case D.UUID:
      out['string_value'] = String(v);
      break;
    case D.Bytes:
    case D.File:
      out['bytes_value'] = v instanceof Uint8Array ? v : Buffer.from(String(v));
      break;
    default:
      throw new Error(`encodeSparkplugPayload: datatype ${metric.datatype} is not encoded here`);
  }
  return out;
}

/** A uint64 for protobufjs, exact beyond 2^53 (negative numbers in two's complement). */
function longBits(value: number | bigint): { low: number; high: number; unsigned: true } {
  const big = BigInt.asUintN(64, typeof value === 'bigint' ? value : BigInt(value));
  return {
    low: Number(big & 0xffffffffn) | 0,
    high: Number(big >> 32n) | 0,
    unsigned: true,
  };
}
