import {
  fromCatalogue,
  barGauge,
  machineStateMappings,
  stat,
  stateTimeline,
  table,
  timeseries,
} from '../panels.js';
import { metric, shareSteps } from '../fields.js';
import { influxql, tiered, tieredAny } from '../query.js';
import { areaVariables, intervalChoice } from '../variables.js';
import { UID, board, deviceLink, inScope } from './common.js';

/** The machines with a `state` (the machine-state timeline). */
export const STATEFUL_MACHINES = [
  'cnc_machine',
  'industrial_robot',
  'injection_moulder',
  'production_line',
] as const;

const LINE = tiered('production_line');

/**
 * OEE of a production line over a window, from its counters (see docs/dashboards.md):
 * availability = Δrun_time / Δplanned_time, performance = ideal cycle × Δparts / Δrun_time,
 * quality = Δgood / Δparts; the product is ideal cycle × Δgood / Δplanned_time.
 */
export const OEE_PER_LINE = `
  SELECT spread("run_time_s") / spread("planned_time_s") AS "availability",
         mean("ideal_cycle_time_s") * (spread("good_count") + spread("scrap_count")) / spread("run_time_s") AS "performance",
         spread("good_count") / (spread("good_count") + spread("scrap_count")) AS "quality",
         mean("ideal_cycle_time_s") * spread("good_count") / spread("planned_time_s") AS "oee"
  FROM ${LINE} WHERE ${inScope()} GROUP BY "site", "device"`;

export function scienceCity() {
  const { dashboard, layout } = board(
    UID.scienceCity,
    'Science City — industrial-internet demonstration',
    'Discrete manufacturing in Science City: OEE per line and factory, machine states, output against plan, scrap, energy per part, spindle vibration and alarms.',
    ['science-city', 'manufacturing'],
  );
  dashboard
    .variables(areaVariables('science-city', 'production_line', 'Factory'))
    .withVariable(intervalChoice('oee_window', 'OEE window', ['15m', '1h', '8h', '1d'], '1h'));

  const share = { unit: 'percentunit', min: 0, max: 1, decimals: 1 };
  layout
    .section('Overall equipment effectiveness')
    .add(
      stat({
        title: 'OEE per factory',
        description:
          'Availability × performance × quality of all lines of a factory over the time range: Σ(ideal cycle × good parts) / Σ planned production time.',
        ...share,
        steps: shareSteps(0.6, 0.85),
        targets: influxql(`
          SELECT sum("v") / sum("p") AS "OEE" FROM (
            SELECT mean("ideal_cycle_time_s") * spread("good_count") AS "v", spread("planned_time_s") AS "p"
            FROM ${LINE} WHERE ${inScope()} GROUP BY "site", "device")
          GROUP BY "site"`).alias('$tag_site'),
      }),
      8,
    )
    .add(
      table({
        title: 'OEE per line',
        description:
          'Over the time range, from the line counters: availability (run / planned time), performance (ideal cycle × parts / run time), quality (good / all parts) and their product.',
        ...share,
        steps: shareSteps(0.6, 0.85),
        links: [deviceLink(true)],
        targets: influxql(OEE_PER_LINE).table(),
      }),
      16,
    )
    .add(
      timeseries({
        title: 'OEE per line over time',
        description: 'OEE of each line per $oee_window window.',
        ...share,
        steps: shareSteps(0.6, 0.85),
        links: [deviceLink()],
        targets: influxql(`
          SELECT mean("ideal_cycle_time_s") * spread("good_count") / spread("planned_time_s") AS "oee"
          FROM ${LINE} WHERE ${inScope()} GROUP BY time($oee_window), "site", "device" fill(none)`).alias(
          '$tag_device',
        ),
      }),
      24,
    )
    .section('Production')
    .add(
      timeseries({
        title: 'Output against plan',
        description: 'Good parts and planned parts of each line since the start of the range.',
        unit: 'short',
        links: [deviceLink()],
        targets: influxql(`
          SELECT cumulative_sum(non_negative_difference(last("good_count"))) AS "good",
                 cumulative_sum(non_negative_difference(last("planned_output"))) AS "plan"
          FROM ${LINE} WHERE ${inScope()} GROUP BY time($__interval), "site", "device" fill(none)`).alias(
          '$tag_device $col',
        ),
      }),
      12,
    )
    .add(
      barGauge({
        title: 'Scrap rate per line',
        description: 'Scrapped / all parts over the time range.',
        unit: 'percentunit',
        min: 0,
        max: 0.1,
        decimals: 2,
        steps: [
          { value: null, color: 'green' },
          { value: 0.02, color: 'orange' },
          { value: 0.05, color: 'red' },
        ],
        targets: influxql(`
          SELECT spread("scrap_count") / (spread("good_count") + spread("scrap_count")) AS "scrap"
          FROM ${LINE} WHERE ${inScope()} GROUP BY "site", "device"`).alias('$tag_device'),
      }),
      6,
    )
    .add(
      barGauge({
        title: 'Energy per good part',
        description: 'Energy drawn by each line (∫ power) over the time range / good parts made.',
        unit: 'suffix: kWh/part',
        decimals: 3,
        min: 0,
        // integral() and spread() cannot share a SELECT (their rows differ): one subquery each
        targets: influxql(`
          SELECT sum("kwh") / sum("parts") AS "kWh per part" FROM
            (SELECT integral("power_kw", 1h) AS "kwh" FROM ${LINE} WHERE ${inScope()} GROUP BY "site", "device"),
            (SELECT spread("good_count") AS "parts" FROM ${LINE} WHERE ${inScope()} GROUP BY "site", "device")
          GROUP BY "site", "device"`).alias('$tag_device'),
      }),
      6,
    )
    .section('Machines')
    .add(
      stateTimeline({
        title: 'Machine states',
        description: 'running / idle / setup / fault / maintenance of every machine and line.',
        mappings: machineStateMappings(),
        links: [deviceLink()],
        targets: influxql(`
          SELECT last("state") AS "state" FROM ${tieredAny(STATEFUL_MACHINES)}
          WHERE ${inScope()} GROUP BY time($__interval), "device" fill(none)`).alias('$tag_device'),
      }),
      24,
      14,
    )
    .add(
      timeseries({
        title: 'Spindle vibration (CNC)',
        description:
          'Peak RMS vibration velocity per interval. Above the orange line a fault is announcing itself (precursor); red is ISO 10816 zone D.',
        ...fromCatalogue(metric('cnc_machine', 'vibration_mm_s')),
        thresholdLines: true,
        links: [deviceLink()],
        targets: influxql(`
          SELECT max("vibration_mm_s") FROM ${tiered('cnc_machine')}
          WHERE ${inScope()} GROUP BY time($__interval), "site", "device" fill(none)`).alias(
          '$tag_device',
        ),
      }),
      12,
    )
    .add(
      timeseries({
        title: 'Power by factory',
        description: 'Electrical power measured by the energy meters of each factory.',
        unit: 'kwatt',
        targets: influxql(`
          SELECT sum("p") FROM (
            SELECT mean("active_power_kw") AS "p" FROM ${tiered('energy_meter')}
            WHERE ${inScope()} GROUP BY time($__interval), "site", "device" fill(none))
          GROUP BY time($__interval), "site" fill(none)`).alias('$tag_site'),
      }),
      12,
    )
    .section('Alarms')
    .add(
      table({
        title: 'Alarms and warnings',
        description: 'Events of the machines and utilities, newest first.',
        links: [deviceLink(true)],
        targets: influxql(`
          SELECT "severity", "code", "site", "device", "message" FROM "device_event"
          WHERE ${inScope()} AND "severity" =~ /^(warning|critical)$/
          ORDER BY time DESC LIMIT 200`).table(),
      }),
      24,
      10,
    );
  return dashboard;
}
