import type { FieldDropReason } from '../../errors.js';
import type { FieldValue } from '../../model.js';
import { dataTypeName, SPARKPLUG_DATATYPES as D, type WireValue } from './payload.js';

export interface ValueDrop {
  readonly reason: FieldDropReason;
  readonly detail: string;
}

/** Which oneof member carries each scalar datatype (specification 3.0, "Datatypes"). */
const CARRIER: Readonly<Record<number, WireValue['kind']>> = {
  [D.Int8]: 'int',
  [D.Int16]: 'int',
  [D.Int32]: 'int',
  [D.UInt8]: 'int',
  [D.UInt16]: 'int',
  [D.UInt32]: 'int',
  [D.Int64]: 'long',
  [D.UInt64]: 'long',
  [D.DateTime]: 'long',
  [D.Float]: 'float',
  [D.Double]: 'double',
  [D.Boolean]: 'boolean',
  [D.String]: 'string',
  [D.Text]: 'string',
  [D.UUID]: 'string',
};

/**
 * A Sparkplug metric value → a field value of the contract, or why not:
 * - every integer type (Int8…UInt64, 64-bit included) and Float/Double → a number (stored as a
 *   float field like every number; 64-bit values beyond 2^53 keep float64 precision);
 * - DateTime → its epoch milliseconds as a number;
 * - Boolean → boolean; String, Text, UUID → string;
 * - DataSet, Bytes, File, the arrays, PropertySet(List) → `unsupported_datatype` (no field
 *   type fits; Templates are flattened before this point, see flattenTemplates);
 * - a datatype id the specification does not define → `unknown_datatype`;
 * - a value in a oneof member other than its datatype's → `wrong_type`.
 */
export function fieldValue(datatype: number, wire: WireValue): FieldValue | ValueDrop {
  const name = dataTypeName(datatype);
  if (name === undefined || datatype === D.Unknown)
    return {
      reason: 'unknown_datatype',
      detail: `datatype ${datatype} is not a Sparkplug datatype`,
    };
  const carrier = CARRIER[datatype];
  if (carrier === undefined)
    return { reason: 'unsupported_datatype', detail: `${name} has no field mapping` };
  if (wire.kind !== carrier)
    return {
      reason: 'wrong_type',
      detail: `${name} must be carried in ${carrier}_value, got ${wire.kind}_value`,
    };
  switch (wire.kind) {
    case 'int': {
      const u = wire.value >>> 0;
      switch (datatype) {
        case D.Int8:
          return (u << 24) >> 24;
        case D.Int16:
          return (u << 16) >> 16;
        case D.Int32:
          return u | 0;
        case D.UInt8:
          return u & 0xff;
        case D.UInt16:
          return u & 0xffff;
        default:
          return u;
      }
    }
    case 'long':
      return Number(datatype === D.Int64 ? BigInt.asIntN(64, wire.value) : wire.value);
    case 'float':
      return shortestFloat32(wire.value);
    case 'double':
    case 'boolean':
    case 'string':
      return wire.value;
    case 'bytes':
    case 'dataset':
    case 'template':
      return { reason: 'unsupported_datatype', detail: `${name} has no field mapping` };
  }
}

/**
 * A float32 as the shortest decimal that reads back as the same float32: the device wrote 41.2
 * into a `float`, protobuf hands over 41.200000762939453, and 41.2 is what should be stored.
 */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const f = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}
