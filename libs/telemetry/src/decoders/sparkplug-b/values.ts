import type { FieldDropReason } from '../../errors.js';
import type { FieldValue } from '../../model.js';
import { dataTypeName, SPARKPLUG_DATATYPES as D, type WireValue } from './payload.js';

export interface ValueDrop {
  readonly reason: FieldDropReason;
  readonly detail: string;
}

type Carrier = WireValue['kind'];
const INTEGER: readonly Carrier[] = ['int', 'long'];
const REAL: readonly Carrier[] = ['float', 'double'];

/**
 * Which oneof members may carry each scalar datatype. The specification lists the protobuf
 * types a value may have, not one member per datatype, and implementations differ: Tahu puts
 * UInt32 in `long_value` (Java has no unsigned int), others in `int_value`. So every integer
 * datatype is read from either integer member, Float and Double from either real member.
 */
const CARRIERS: Readonly<Record<number, readonly Carrier[]>> = {
  [D.Int8]: INTEGER,
  [D.Int16]: INTEGER,
  [D.Int32]: INTEGER,
  [D.UInt8]: INTEGER,
  [D.UInt16]: INTEGER,
  [D.UInt32]: INTEGER,
  [D.Int64]: INTEGER,
  [D.UInt64]: INTEGER,
  [D.DateTime]: INTEGER,
  [D.Float]: REAL,
  [D.Double]: REAL,
  [D.Boolean]: ['boolean'],
  [D.String]: ['string'],
  [D.Text]: ['string'],
  [D.UUID]: ['string'],
};

/** Bits and signedness of the integer datatypes. */
const INTEGER_WIDTH: Readonly<Record<number, readonly [number, boolean]>> = {
  [D.Int8]: [8, true],
  [D.Int16]: [16, true],
  [D.Int32]: [32, true],
  [D.Int64]: [64, true],
  [D.UInt8]: [8, false],
  [D.UInt16]: [16, false],
  [D.UInt32]: [32, false],
  [D.UInt64]: [64, false],
  [D.DateTime]: [64, false],
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
 * - a value in a oneof member that cannot carry its datatype (a string for an Int32) →
 *   `wrong_type`.
 */
export function fieldValue(datatype: number, wire: WireValue): FieldValue | ValueDrop {
  const name = dataTypeName(datatype);
  if (name === undefined || datatype === D.Unknown)
    return {
      reason: 'unknown_datatype',
      detail: `datatype ${datatype} is not a Sparkplug datatype`,
    };
  const carriers = CARRIERS[datatype];
  if (carriers === undefined)
    return { reason: 'unsupported_datatype', detail: `${name} has no field mapping` };
  if (!carriers.includes(wire.kind))
    return {
      reason: 'wrong_type',
      detail: `${name} must be carried in ${carriers.map((c) => `${c}_value`).join(' or ')}, got ${wire.kind}_value`,
    };
  switch (wire.kind) {
    case 'int':
    case 'long': {
      // Two's complement at the datatype's width, whichever member carried it.
      const [bits, signed] = INTEGER_WIDTH[datatype] ?? [64, false];
      const raw = wire.kind === 'int' ? BigInt(wire.value >>> 0) : wire.value;
      return Number(signed ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw));
    }
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
