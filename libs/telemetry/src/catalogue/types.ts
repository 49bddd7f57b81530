/**
 * The asset catalogue: every asset type that publishes telemetry in the parks, with its metrics,
 * units and physical ranges. It is the one source of truth that the simulator (signals), the
 * ingestion (validation) and the dashboards (units, thresholds) read.
 */

export const PARK_IDS = ['science-city', 'yuzhu', 'knowledge-city', 'bio-island'] as const;
export type ParkId = (typeof PARK_IDS)[number];

export interface ParkSpec {
  readonly id: ParkId;
  readonly name: string;
  readonly area: string;
}

/**
 * How a metric is typed on the wire and stored:
 * - `gauge`: a finite number that goes up and down (stored as a float field);
 * - `counter`: a finite number that only grows (energy, parts, hours) (float field);
 * - `boolean`: true/false (boolean field);
 * - `enum`: one of `values` (string field).
 */
export type MetricKind = 'gauge' | 'counter' | 'boolean' | 'enum';

/**
 * Where a gauge leaves its normal band: the values at which dashboards turn it orange and red and
 * alerting looks. `above` (the default): higher is worse; `below`: lower is worse.
 */
export interface MetricThresholds {
  readonly direction?: 'above' | 'below';
  readonly warning: number;
  readonly critical: number;
}

export interface MetricSpec {
  readonly kind: MetricKind;
  /** Unit as Grafana names it where possible (`celsius`, `kwatt`, `percent`…); '' for none. */
  readonly unit: string;
  /** Physical lower bound (inclusive) for numbers: a value below it is dropped as implausible. */
  readonly min?: number;
  /** Physical upper bound (inclusive) for numbers. */
  readonly max?: number;
  /** Allowed values of an `enum` metric. */
  readonly values?: readonly string[];
  /** Operating limits of a gauge (dashboards' thresholds, alert rules, simulator precursors). */
  readonly thresholds?: MetricThresholds;
  readonly description: string;
}

export interface AssetTypeSpec {
  /** snake_case id, used as the topic's `assetType` level and as the InfluxDB measurement. */
  readonly id: string;
  readonly name: string;
  /** Parks in which this asset type exists. */
  readonly parks: readonly ParkId[];
  /** Seconds between two telemetry messages in normal operation (drives presence and simulation). */
  readonly reportIntervalS: number;
  readonly metrics: Readonly<Record<string, MetricSpec>>;
}
