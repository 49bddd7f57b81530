import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/** The provisioned InfluxDB datasource (deploy/grafana/provisioning/datasources/influxdb.yaml). */
export const DATASOURCE: DataSourceRef = { type: 'influxdb', uid: 'parkpulse-influxdb' };

/** A raw InfluxQL target of Grafana's InfluxDB datasource (the SDK ships no InfluxDB query type). */
export interface InfluxQLQuery {
  refId?: string;
  hide?: boolean;
  datasource?: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  alias?: string;
  _implementsDataqueryVariant(): void;
}

export class InfluxQLQueryBuilder implements Builder<Dataquery> {
  private readonly internal: InfluxQLQuery;

  constructor(query: string) {
    this.internal = {
      datasource: DATASOURCE,
      query,
      rawQuery: true,
      resultFormat: 'time_series',
      _implementsDataqueryVariant() {},
    };
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  /** `table` for rows of columns (tables, bar gauges of per-device figures). */
  table(): this {
    this.internal.resultFormat = 'table';
    return this;
  }

  /** Series name pattern, e.g. `$tag_device`. */
  alias(alias: string): this {
    this.internal.alias = alias;
    return this;
  }

  build(): InfluxQLQuery {
    return this.internal;
  }
}

/**
 * The target of an InfluxQL annotation query: Grafana's InfluxDB data source takes each row's
 * time, its text from `textColumn` and its tags from the comma-separated `tagsColumn`.
 */
export interface InfluxQLAnnotationTarget extends InfluxQLQuery {
  textColumn?: string;
  tagsColumn?: string;
}

export function influxqlAnnotation(
  query: string,
  columns: { text: string; tags: readonly string[] },
): Builder<Dataquery> {
  const target: InfluxQLAnnotationTarget = {
    ...influxql(query, 'Anno').table().build(),
    textColumn: columns.text,
    tagsColumn: columns.tags.join(','),
  };
  return { build: () => target };
}

/** `influxql('SELECT …')`, refId A. */
export const influxql = (query: string, refId = 'A') =>
  new InfluxQLQueryBuilder(query.replace(/\s+/g, ' ').trim()).refId(refId);

/** A double-quoted InfluxQL identifier. */
export const q = (name: string) => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** A measurement in the tier chosen by the dashboard's `$rp` variable (raw or a roll-up). */
export const tiered = (measurement: string) => `"$rp".${q(measurement)}`;

/** Several measurements of one tier, by regex. */
export const tieredAny = (measurements: readonly string[]) =>
  `"$rp"./^(${[...measurements].sort().join('|')})$/`;

/** Raw points (platform figures and sparse measurements are not rolled up). */
export const raw = (measurement: string) => `"raw".${q(measurement)}`;

/** Tag conditions on the dashboard's variables, e.g. `"park" =~ /^$park$/ AND …`. */
export const matchVars = (...tags: string[]) =>
  tags.map((tag) => `${q(tag)} =~ /^$${tag}$/`).join(' AND ');
