import { METRIC_NAME_PATTERN, RESERVED_NAMES } from '../../limits.js';
import { hasControlChars } from '../../text.js';
import type { ValueDrop } from './values.js';

/** Longest Sparkplug metric name looked at (longer ones are refused, not cut). */
export const MAX_SPARKPLUG_NAME_LENGTH = 256;

/**
 * The default normalisation of a Sparkplug metric name to a contract metric name
 * (`^[a-z][a-z0-9_]{0,62}$`): camelCase words split (`SpindleSpeed` → `spindle_speed`, but `kW` stays `kw`), lower case,
 * every run of other characters (`/`, spaces, `.`, `-`, …) one `_`, no leading or trailing `_`,
 * `m_` before a leading digit. `Motor/Speed RPM` → `motor_speed_rpm`.
 *
 * Refused (`metric_name_invalid`): control characters (a newline is how a second line is
 * smuggled into line protocol), names longer than 256 characters, names with nothing left
 * (`温度`, `///`), names over 63 characters once normalised (cutting could merge two metrics),
 * and the contract's reserved names (`ts`, `seq`, `time`).
 */
export function normaliseMetricName(name: string): string | ValueDrop {
  if (hasControlChars(name))
    return { reason: 'metric_name_invalid', detail: 'name contains control characters' };
  if (name.length > MAX_SPARKPLUG_NAME_LENGTH)
    return {
      reason: 'metric_name_invalid',
      detail: `name of ${name.length} characters, at most ${MAX_SPARKPLUG_NAME_LENGTH}`,
    };
  let out = name
    .replace(/([a-z0-9])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (out === '')
    return { reason: 'metric_name_invalid', detail: 'nothing of the name is left in [a-z0-9_]' };
  if (/^[0-9]/.test(out)) out = `m_${out}`;
  if (!METRIC_NAME_PATTERN.test(out))
    return {
      reason: 'metric_name_invalid',
      detail: `"${out.slice(0, 70)}" is longer than 63 characters`,
    };
  if (RESERVED_NAMES.has(out))
    return { reason: 'metric_name_invalid', detail: `"${out}" is reserved by the contract` };
  return out;
}
