import { ThresholdsMode, type Threshold } from '@grafana/grafana-foundation-sdk/dashboard';
import { getAssetType, type MetricSpec } from '@parkpulse/telemetry';

/** A metric of the catalogue; throws at generation time when a dashboard names one that is not. */
export function metric(assetType: string, name: string): MetricSpec {
  const spec = getAssetType(assetType)?.metrics[name];
  if (!spec) throw new Error(`catalogue has no metric ${assetType}.${name}`);
  return spec;
}

export const GREEN = 'green';
export const ORANGE = 'orange';
export const RED = 'red';

/** Grafana threshold steps from a metric's catalogue thresholds (green when it has none). */
export function thresholdSteps(spec: MetricSpec): Threshold[] {
  const t = spec.thresholds;
  if (!t) return [{ value: null, color: GREEN }];
  return t.direction === 'below'
    ? [
        { value: null, color: RED },
        { value: t.critical, color: ORANGE },
        { value: t.warning, color: GREEN },
      ]
    : [
        { value: null, color: GREEN },
        { value: t.warning, color: ORANGE },
        { value: t.critical, color: RED },
      ];
}

/** Steps for a share (0…1) where higher is better, e.g. OEE (world class ≥ 85 %). */
export const shareSteps = (warning: number, good: number): Threshold[] => [
  { value: null, color: RED },
  { value: warning, color: ORANGE },
  { value: good, color: GREEN },
];

export const thresholdsOf = (steps: Threshold[]) => ({ mode: ThresholdsMode.Absolute, steps });
