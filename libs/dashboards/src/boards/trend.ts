import { metric } from '../fields.js';
import { fromCatalogue, stat, timeseries } from '../panels.js';
import { influxql, q, tiered } from '../query.js';
import { deviceLink, inScope } from './common.js';

interface TrendOptions {
  readonly title: string;
  readonly description: string;
  /** InfluxQL aggregate per interval (default mean). */
  readonly fn?: 'mean' | 'max' | 'min' | 'last';
}

/** One catalogue metric per device over time, with the catalogue's unit and thresholds. */
export function metricTrend(asset: string, name: string, o: TrendOptions) {
  const spec = metric(asset, name);
  return timeseries({
    title: o.title,
    description: o.description,
    ...fromCatalogue(spec),
    thresholdLines: spec.thresholds !== undefined,
    links: [deviceLink()],
    targets: influxql(`
      SELECT ${o.fn ?? 'mean'}(${q(name)}) AS ${q(name)} FROM ${tiered(asset)}
      WHERE ${inScope()} GROUP BY time($__interval), "site", "device" fill(none)`).alias(
      '$tag_device',
    ),
  });
}

/** A park-wide sum of a per-device gauge (e.g. power), per interval. */
export function summedTrend(asset: string, name: string, o: TrendOptions & { by?: string }) {
  const spec = metric(asset, name);
  const by = o.by ?? 'site';
  return timeseries({
    title: o.title,
    description: o.description,
    ...fromCatalogue(spec),
    targets: influxql(`
      SELECT sum("v") AS ${q(name)} FROM (
        SELECT mean(${q(name)}) AS "v" FROM ${tiered(asset)}
        WHERE ${inScope()} GROUP BY time($__interval), ${q(by)}, "device" fill(none))
      GROUP BY time($__interval), ${q(by)} fill(none)`).alias(`$tag_${by}`),
  });
}

/** The latest value of a per-device gauge summed over the park (a big number). */
export function summedNow(asset: string, name: string, o: TrendOptions) {
  const spec = metric(asset, name);
  return stat({
    title: o.title,
    description: o.description,
    ...fromCatalogue(spec),
    graph: false,
    targets: influxql(`
      SELECT sum("v") AS ${q(name)} FROM (
        SELECT last(${q(name)}) AS "v" FROM ${tiered(asset)}
        WHERE ${inScope()} GROUP BY "device")`),
  });
}
