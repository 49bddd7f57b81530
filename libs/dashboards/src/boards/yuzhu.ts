import { metric } from '../fields.js';
import { barGauge, fromCatalogue } from '../panels.js';
import { influxql, tiered } from '../query.js';
import { areaVariables } from '../variables.js';
import { UID, board, inScope } from './common.js';
import { metricTrend, summedNow, summedTrend } from './trend.js';

export function yuzhu() {
  const { dashboard, layout } = board(
    UID.yuzhu,
    'Yuzhu — AI and digital economy',
    'The AI compute clusters and the smart buildings of Yuzhu: compute power, PUE, inlet temperatures, building energy.',
    ['yuzhu', 'compute'],
  );
  dashboard.variables(areaVariables('yuzhu', 'energy_meter'));
  layout
    .section('Compute')
    .add(
      summedNow('ai_compute_cluster', 'it_power_kw', {
        title: 'IT power now',
        description: "Sum of the clusters' IT load.",
      }),
      6,
      5,
    )
    .add(
      barGauge({
        title: 'PUE per cluster',
        description:
          'Facility / IT power over the time range (1.0 = every watt reaches the IT load).',
        ...fromCatalogue(metric('ai_compute_cluster', 'pue')),
        decimals: 2,
        min: 1,
        max: 2,
        targets: influxql(`
          SELECT mean("facility_power_kw") / mean("it_power_kw") AS "PUE"
          FROM ${tiered('ai_compute_cluster')} WHERE ${inScope()} GROUP BY "site", "device"`).alias(
          '$tag_device',
        ),
      }),
      9,
      5,
    )
    .add(
      barGauge({
        title: 'GPU utilisation',
        description: 'Mean GPU utilisation per cluster over the time range.',
        ...fromCatalogue(metric('ai_compute_cluster', 'gpu_utilisation_pct')),
        min: 0,
        max: 100,
        targets: influxql(`
          SELECT mean("gpu_utilisation_pct") FROM ${tiered('ai_compute_cluster')}
          WHERE ${inScope()} GROUP BY "site", "device"`).alias('$tag_device'),
      }),
      9,
      5,
    )
    .add(
      metricTrend('ai_compute_cluster', 'it_power_kw', {
        title: 'Compute power',
        description: 'IT power of each cluster.',
      }),
      12,
    )
    .add(
      metricTrend('ai_compute_cluster', 'pue', {
        title: 'PUE',
        description: 'Power usage effectiveness of each cluster (instantaneous).',
      }),
      12,
    )
    .add(
      metricTrend('ai_compute_cluster', 'inlet_temp_c', {
        title: 'Inlet temperature',
        description: 'Hottest rack inlet per interval; ASHRAE A1 recommends ≤ 27 °C.',
        fn: 'max',
      }),
      12,
    )
    .add(
      metricTrend('ai_compute_cluster', 'gpu_temp_max_c', {
        title: 'Hottest GPU',
        description: 'Hottest GPU of each cluster.',
        fn: 'max',
      }),
      12,
    )
    .section('Buildings')
    .add(
      summedTrend('energy_meter', 'active_power_kw', {
        title: 'Building power by site',
        description: 'Power measured by the energy meters of each site.',
      }),
      12,
    )
    .add(
      metricTrend('building_hvac', 'supply_air_temp_c', {
        title: 'HVAC supply air',
        description: 'Supply air temperature of each air-handling unit.',
      }),
      12,
    )
    .add(
      metricTrend('building_hvac', 'power_kw', {
        title: 'HVAC power',
        description: 'Electrical power of each air-handling unit.',
      }),
      12,
    )
    .add(
      metricTrend('elevator', 'power_kw', {
        title: 'Elevator power',
        description: 'Electrical power of each elevator.',
      }),
      12,
    );
  return dashboard;
}
