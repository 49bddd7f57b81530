import type { AssetTypeSpec, MetricSpec } from './catalogue/index.js';
import { fail, ok, type FieldDropReason, type Result } from './errors.js';
import { METRIC_NAME_PATTERN, RESERVED_NAMES, type ContractLimits } from './limits.js';
import type { FieldDrop, FieldValue, RawSample, Sample } from './model.js';

import { codePointLength, hasControlChars } from './text.js';

/**
 * Types every metric of a raw sample per the contract and checks it against the catalogue.
 * A bad metric name makes the whole message a dead letter (the firmware is wrong); a bad value
 * only drops that field, with its reason.
 */
export function validateSample(
  asset: AssetTypeSpec,
  raw: RawSample,
  limits: ContractLimits,
  dropped: FieldDrop[],
): Result<Sample> {
  const fields: Record<string, FieldValue> = {};
  for (const name of Object.keys(raw.metrics)) {
    if (!METRIC_NAME_PATTERN.test(name)) {
      return fail(
        'metric_name_invalid',
        `metric name "${name.slice(0, 70)}" must match ${METRIC_NAME_PATTERN.source}`,
      );
    }
    if (RESERVED_NAMES.has(name))
      return fail('metric_name_invalid', `"${name}" is reserved by the contract`);
    const value = raw.metrics[name];
    if (value === null) continue; // the contract: null means "no reading", skipped silently
    // Own properties only: a metric called `constructor` must not find Object's.
    const spec = Object.hasOwn(asset.metrics, name) ? asset.metrics[name] : undefined;
    const checked = spec ? checkAgainstSpec(spec, value) : checkGeneric(value, limits);
    if (typeof checked === 'object') {
      dropped.push({ metric: name, reason: checked.reason, detail: checked.detail });
    } else {
      fields[name] = checked;
    }
  }
  return ok(raw.seq === undefined ? { ts: raw.ts, fields } : { ts: raw.ts, seq: raw.seq, fields });
}

interface Drop {
  reason: FieldDropReason;
  detail: string;
}

function checkGeneric(value: unknown, limits: ContractLimits): FieldValue | Drop {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value)
        ? value
        : { reason: 'not_finite', detail: `${value} is not finite` };
    case 'boolean':
      return value;
    case 'string':
      return checkStringValue(value, limits);
    default:
      return {
        reason: 'wrong_type',
        detail: `${Array.isArray(value) ? 'array' : typeof value} is not a number, boolean or string`,
      };
  }
}

/**
 * The contract's rule for a string value (a string metric, a string in a command result): at
 * most `limits.maxStringLength` characters (Unicode code points), no control character at all.
 * Returns the value, or why it is refused.
 */
export function checkStringValue(
  value: string,
  limits: ContractLimits,
): string | Pick<FieldDrop, 'reason' | 'detail'> {
  // Characters are Unicode code points: 256 emoji are 256 characters, not 512 UTF-16 units.
  const length = codePointLength(value);
  if (length > limits.maxStringLength) {
    return {
      reason: 'string_too_long',
      detail: `${length} characters (Unicode code points), at most ${limits.maxStringLength}`,
    };
  }
  if (hasControlChars(value))
    return {
      reason: 'control_characters',
      detail: 'string values must not contain control characters (U+0000–U+001F, U+007F)',
    };
  return value;
}

function checkAgainstSpec(spec: MetricSpec, value: unknown): FieldValue | Drop {
  switch (spec.kind) {
    case 'gauge':
    case 'counter': {
      if (typeof value !== 'number')
        return { reason: 'wrong_type', detail: `expected a number, got ${typeName(value)}` };
      if (!Number.isFinite(value))
        return { reason: 'not_finite', detail: `${value} is not finite` };
      if (
        (spec.min !== undefined && value < spec.min) ||
        (spec.max !== undefined && value > spec.max)
      ) {
        return {
          reason: 'out_of_range',
          detail:
            `${value} outside [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}] ${spec.unit}`.trimEnd(),
        };
      }
      return value;
    }
    case 'boolean':
      return typeof value === 'boolean'
        ? value
        : { reason: 'wrong_type', detail: `expected a boolean, got ${typeName(value)}` };
    case 'enum': {
      if (typeof value !== 'string')
        return { reason: 'wrong_type', detail: `expected a string, got ${typeName(value)}` };
      if (!spec.values?.includes(value)) {
        return {
          reason: 'not_in_enum',
          detail: `"${value.slice(0, 40)}" is not one of ${spec.values?.join(', ') ?? ''}`,
        };
      }
      return value;
    }
  }
}

function typeName(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}
