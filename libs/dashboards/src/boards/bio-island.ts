import { metric } from '../fields.js';
import { booleanMappings, fromCatalogue, stateTimeline, table, timeseries } from '../panels.js';
import { influxql, tiered } from '../query.js';
import { areaVariables } from '../variables.js';
import { UID, board, deviceLink, inScope } from './common.js';
import { metricTrend } from './trend.js';

export function bioIsland() {
  const { dashboard, layout } = board(
    UID.bioIsland,
    'Bio Island — biosafety',
    'Containment laboratories (pressure cascade, air changes, HEPA filters, doors) and the ultra-low temperature sample freezers of Bio Island.',
    ['bio-island', 'biosafety'],
  );
  dashboard.variables(areaVariables('bio-island', 'bsl_laboratory', 'Campus'));
  const lab = tiered('bsl_laboratory');
  layout
    .section('Containment laboratories')
    .add(
      stateTimeline({
        title: 'Containment',
        description: 'Pressure cascade and airflow within limits, per laboratory.',
        mappings: booleanMappings('contained', 'LOST', 'true'),
        links: [deviceLink()],
        targets: influxql(`
          SELECT last("containment_ok") AS "containment" FROM ${lab}
          WHERE ${inScope()} GROUP BY time($__interval), "device" fill(none)`).alias('$tag_device'),
      }),
      12,
    )
    .add(
      stateTimeline({
        title: 'Doors',
        description:
          'Inner (anteroom ↔ lab) and outer (corridor ↔ anteroom) door of each laboratory.',
        mappings: booleanMappings('open', 'closed', 'false'),
        links: [deviceLink()],
        targets: influxql(`
          SELECT last("door_open") AS "inner", last("anteroom_door_open") AS "outer" FROM ${lab}
          WHERE ${inScope()} GROUP BY time($__interval), "device" fill(none)`).alias(
          '$tag_device $col',
        ),
      }),
      12,
    )
    .add(
      timeseries({
        title: 'Pressure cascade',
        description:
          'Lab and anteroom pressure relative to the corridor. Air must flow corridor → anteroom → lab: the lab stays below the anteroom, both below 0 Pa.',
        ...fromCatalogue(metric('bsl_laboratory', 'room_pressure_pa')),
        thresholdLines: true,
        links: [deviceLink()],
        targets: influxql(`
          SELECT max("room_pressure_pa") AS "lab", max("anteroom_pressure_pa") AS "anteroom" FROM ${lab}
          WHERE ${inScope()} GROUP BY time($__interval), "site", "device" fill(none)`).alias(
          '$tag_device $col',
        ),
      }),
      24,
      10,
    )
    .add(
      metricTrend('bsl_laboratory', 'air_changes_per_h', {
        title: 'Air changes per hour',
        description: 'Supply airflow / room volume of each laboratory.',
        fn: 'min',
      }),
      8,
    )
    .add(
      metricTrend('bsl_laboratory', 'hepa_supply_dp_pa', {
        title: 'HEPA ΔP, supply',
        description:
          'Pressure drop across each supply HEPA filter: rising means loading; change above the red line.',
        fn: 'max',
      }),
      8,
    )
    .add(
      metricTrend('bsl_laboratory', 'hepa_exhaust_dp_pa', {
        title: 'HEPA ΔP, exhaust',
        description: 'Pressure drop across each exhaust HEPA filter.',
        fn: 'max',
      }),
      8,
    )
    .section('Sample freezers')
    .add(
      metricTrend('ultra_low_freezer', 'cabinet_temp_c', {
        title: 'Freezer cabinet temperature',
        description:
          'Warmest reading per interval. Defrost cycles warm the cabinet by a few degrees; above −70 °C samples are at risk.',
        fn: 'max',
      }),
      16,
      10,
    )
    .add(
      stateTimeline({
        title: 'Freezer doors and defrost',
        description: 'Door openings and defrost cycles of each freezer.',
        mappings: booleanMappings('yes', 'no', 'false'),
        targets: influxql(`
          SELECT last("door_open") AS "door", last("defrost") AS "defrost" FROM ${tiered('ultra_low_freezer')}
          WHERE ${inScope()} GROUP BY time($__interval), "device" fill(none)`).alias(
          '$tag_device $col',
        ),
      }),
      8,
      10,
    )
    .section('Events')
    .add(
      table({
        title: 'Biosafety events',
        description: 'Door, cascade and freezer events, newest first.',
        links: [deviceLink(true)],
        targets: influxql(`
          SELECT "severity", "code", "site", "device", "message" FROM "device_event"
          WHERE ${inScope()} ORDER BY time DESC LIMIT 200`).table(),
      }),
      24,
      10,
    );
  return dashboard;
}
