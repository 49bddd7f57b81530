import { fail, ok, type Result } from '../../errors.js';
import type { FieldDrop, FieldValue, RawSample } from '../../model.js';
import { checkWindow } from '../../timestamp.js';
import { clip } from '../../topic.js';
import type { DecodeContext, PayloadDecoder } from '../decoder.js';
import { normaliseMetricName } from './names.js';
import { decodeSparkplugPayload, SPARKPLUG_DATATYPES, type SparkplugMetric } from './payload.js';
import { fieldValue, type ValueDrop } from './values.js';

/** A metric whose name and datatype are known (from itself, or from the BIRTH its alias points to). */
export interface NamedMetric {
  readonly name: string;
  readonly datatype: number;
  readonly metric: SparkplugMetric;
}

/** Sparkplug name → contract field name, or why the metric is refused. */
export type MetricRename = (sparkplugName: string) => string | ValueDrop;

/**
 * Metrics of the Sparkplug session machinery, not telemetry: `bdSeq`, `Node Control/*`,
 * `Device Control/*`. Never stored.
 */
export function isSessionMetric(name: string): boolean {
  return name === 'bdSeq' || name.startsWith('Node Control/') || name.startsWith('Device Control/');
}

/**
 * Template instances become their members, named `{metric}/{member}` (nested templates
 * recursively), each with its own datatype, value and timestamp (else the instance's);
 * template definitions (`is_definition`, in NBIRTH) carry no data and are skipped.
 */
export function flattenTemplates(metrics: readonly NamedMetric[]): NamedMetric[] {
  const out: NamedMetric[] = [];
  const walk = (m: NamedMetric) => {
    if (m.datatype !== SPARKPLUG_DATATYPES.Template || m.metric.value?.kind !== 'template') {
      out.push(m);
      return;
    }
    const template = m.metric.value.value;
    if (template.isDefinition) return;
    for (const member of template.metrics) {
      if (member.name === undefined || member.datatype === undefined) continue;
      const timestamp = member.timestamp ?? m.metric.timestamp;
      walk({
        name: `${m.name}/${member.name}`,
        datatype: member.datatype,
        metric: {
          ...member,
          ...(timestamp !== undefined ? { timestamp } : {}),
          isHistorical: member.isHistorical || m.metric.isHistorical,
        },
      });
    }
  };
  metrics.forEach(walk);
  return out;
}

/**
 * Named metrics → raw samples, one per distinct timestamp (a metric's own timestamp, else the
 * payload's, else the receive time), so historical metrics (`is_historical`) are stored at the
 * time they were measured. Null metrics are skipped (no reading); values without a field
 * mapping and refused names are recorded in `dropped` and the rest kept. A timestamp outside
 * the accepted window refuses the message, as in contract v1.
 */
export function buildSamples(
  metrics: readonly NamedMetric[],
  payloadTimestamp: number | undefined,
  ctx: DecodeContext,
  rename: MetricRename,
  dropped: FieldDrop[],
): Result<RawSample[]> {
  const byTs = new Map<number, { tsFromDevice: boolean; metrics: Record<string, FieldValue> }>();
  for (const { name, datatype, metric } of flattenTemplates(metrics)) {
    if (isSessionMetric(name) || metric.isNull) continue;
    const label = clip(name, 64);
    if (metric.value === undefined) {
      dropped.push({ metric: label, reason: 'wrong_type', detail: 'no value and not is_null' });
      continue;
    }
    const value = fieldValue(datatype, metric.value);
    if (typeof value === 'object') {
      dropped.push({ metric: label, ...value });
      continue;
    }
    const field = rename(name);
    if (typeof field === 'object') {
      dropped.push({ metric: label, ...field });
      continue;
    }
    const deviceTs = metric.timestamp ?? payloadTimestamp;
    let ts = ctx.receivedAt;
    if (deviceTs !== undefined) {
      const inWindow = checkWindow(
        deviceTs,
        ctx.receivedAt,
        ctx.limits.maxPastMs,
        ctx.limits.maxFutureMs,
      );
      if (!inWindow.ok) return fail(inWindow.error.reason, `${label}: ${inWindow.error.detail}`);
      ts = inWindow.value;
    }
    let sample = byTs.get(ts);
    if (!sample) byTs.set(ts, (sample = { tsFromDevice: deviceTs !== undefined, metrics: {} }));
    if (Object.hasOwn(sample.metrics, field)) {
      dropped.push({
        metric: label,
        reason: 'metric_name_invalid',
        detail: `another metric of this sample is stored as "${field}" already`,
      });
      continue;
    }
    sample.metrics[field] = value;
  }
  return ok(
    [...byTs.entries()]
      .sort(([a], [b]) => a - b)
      .map(([ts, s]) => ({ ts, tsFromDevice: s.tsFromDevice, metrics: s.metrics })),
  );
}

export interface SparkplugBDecoderOptions {
  /** Sparkplug name → field name; the default normalisation when absent. */
  readonly rename?: MetricRename;
}

/**
 * The stateless part of Sparkplug B as a payload decoder: a protobuf payload whose metrics carry
 * their names and datatypes (a BIRTH, or DATA from an edge node that sends no aliases). A
 * metric known only by its alias needs the host's BIRTH state (`@parkpulse/sparkplug`'s
 * SparkplugHost) and is dropped here as `unknown_alias`.
 */
export function createSparkplugBDecoder(options: SparkplugBDecoderOptions = {}): PayloadDecoder {
  const rename = options.rename ?? normaliseMetricName;
  return {
    name: 'sparkplug-b',
    decode(payload: Buffer, ctx: DecodeContext): Result<RawSample[]> {
      const decoded = decodeSparkplugPayload(payload);
      if (!decoded.ok) return decoded;
      const dropped = ctx.dropped ?? [];
      const named: NamedMetric[] = [];
      for (const metric of decoded.value.metrics) {
        if (metric.name === undefined) {
          dropped.push({
            metric: `alias ${metric.alias ?? '?'}`,
            reason: 'unknown_alias',
            detail: 'a metric without a name needs the BIRTH that declared its alias',
          });
        } else if (metric.datatype === undefined) {
          dropped.push({
            metric: clip(metric.name, 64),
            reason: 'unknown_datatype',
            detail: 'no datatype and no BIRTH to take it from',
          });
        } else {
          named.push({ name: metric.name, datatype: metric.datatype, metric });
        }
      }
      return buildSamples(named, decoded.value.timestamp, ctx, rename, dropped);
    },
  };
}

export const sparkplugBDecoder: PayloadDecoder = createSparkplugBDecoder();
