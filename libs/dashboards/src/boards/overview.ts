import { DashboardLinkBuilder, DashboardLinkType } from '@grafana/grafana-foundation-sdk/dashboard';
import { PARKS } from '@parkpulse/telemetry';
import { barGauge, stat, table, timeseries } from '../panels.js';
import { influxql, raw } from '../query.js';
import { parkVariable, rpVariable } from '../variables.js';
import { UID, board, deviceLink } from './common.js';

const AREA_UID: Record<string, string> = {
  'science-city': UID.scienceCity,
  yuzhu: UID.yuzhu,
  'knowledge-city': UID.knowledgeCity,
  'bio-island': UID.bioIsland,
};

export function overview() {
  const { dashboard, layout } = board(
    UID.overview,
    'ParkPulse — park overview',
    'All four parks at a glance: devices online and offline, telemetry rate, power and energy, active alarms; links into each area.',
    ['overview'],
  );
  dashboard.withVariable(rpVariable()).withVariable(parkVariable());
  for (const park of PARKS)
    dashboard.link(
      new DashboardLinkBuilder(park.name)
        .type(DashboardLinkType.Link)
        .url(`/d/${AREA_UID[park.id]}`)
        .keepTime(true)
        .tooltip(park.area),
    );
  layout
    .section('Devices')
    .add(
      stat({
        title: 'Devices',
        description:
          'Per park: online (connected and reporting), stale (connected but silent for three of its report intervals), offline (disconnected or last will), flapping (six connection changes within ten minutes). Counted by the ingestion every 10 s.',
        unit: 'short',
        steps: [{ value: null, color: 'blue' }],
        colours: { online: 'green', stale: 'orange', offline: 'red', flapping: 'purple' },
        targets: influxql(`
          SELECT sum("online") AS "online", sum("stale") AS "stale", sum("offline") AS "offline",
                 sum("flapping") AS "flapping"
          FROM (SELECT last("online") AS "online", last("stale") AS "stale", last("offline") AS "offline",
                       last("flapping") AS "flapping"
                FROM "park_presence" WHERE "park" =~ /^$park$/ AND $timeFilter GROUP BY "park", "instance")
          GROUP BY "park"`).alias('$tag_park $col'),
      }),
      16,
      5,
    )
    .add(
      stat({
        title: 'Critical alarms',
        description: 'Critical events in the time range (per park).',
        unit: 'short',
        steps: [
          { value: null, color: 'green' },
          { value: 1, color: 'red' },
        ],
        targets: influxql(`
          SELECT count("message") AS "alarms" FROM "device_event"
          WHERE "park" =~ /^$park$/ AND "severity" = 'critical' AND $timeFilter GROUP BY "park"`).alias(
          '$tag_park',
        ),
      }),
      8,
      5,
    )
    .section('Telemetry and energy')
    .add(
      timeseries({
        title: 'Messages per second',
        description: 'Telemetry messages taken in by the ingestion (all parks).',
        unit: 'short',
        targets: influxql(`
          SELECT sum("messages_in") / sum("interval_s") AS "messages/s" FROM ${raw('platform_ingestion')}
          WHERE $timeFilter GROUP BY time($__interval) fill(none)`),
      }),
      12,
    )
    .add(
      timeseries({
        title: 'Power by park',
        description: 'Electrical power measured by the energy meters of each park.',
        unit: 'kwatt',
        targets: influxql(`
          SELECT sum("p") FROM (
            SELECT mean("active_power_kw") AS "p" FROM "$rp"."energy_meter"
            WHERE "park" =~ /^$park$/ AND $timeFilter GROUP BY time($__interval), "park", "device" fill(none))
          GROUP BY time($__interval), "park" fill(none)`).alias('$tag_park'),
      }),
      12,
    )
    .add(
      barGauge({
        title: 'Energy today',
        description: 'Energy measured by the energy meters since local midnight (UTC+8), per park.',
        unit: 'kwatth',
        targets: influxql(`
          SELECT sum("e") AS "kWh" FROM (
            SELECT spread("energy_kwh") AS "e" FROM "$rp"."energy_meter"
            WHERE "park" =~ /^$park$/ AND time >= now() - 1d GROUP BY time(1d, -8h), "park", "device")
          WHERE time >= now() - 1d GROUP BY "park"`).alias('$tag_park'),
      }),
      12,
    )
    .add(
      table({
        title: 'Latest alarms',
        description: 'Warnings and critical events of all parks, newest first.',
        links: [deviceLink(true)],
        targets: influxql(`
          SELECT "severity", "code", "park", "site", "device", "message" FROM "device_event"
          WHERE "park" =~ /^$park$/ AND "severity" =~ /^(warning|critical)$/ AND $timeFilter
          ORDER BY time DESC LIMIT 100`).table(),
      }),
      12,
    )
    .section('Alarms (ISA-18.2, answered in the operator console)')
    .add(
      timeseries({
        title: 'Alarms raised, by priority',
        description:
          'Alarms the operations service raised from the live telemetry and events, per interval and priority. More than 10 in 10 minutes for one operator is a flood (ISA-18.2).',
        unit: 'short',
        targets: influxql(`
          SELECT count("id") FROM ${raw('alarm_event')}
          WHERE "park" =~ /^$park$/ AND "action" = 'activate' AND $timeFilter
          GROUP BY time($__interval), "priority" fill(none)`).alias('$tag_priority'),
      }),
      12,
    )
    .add(
      table({
        title: 'Alarm journal',
        description:
          'Every alarm transition, newest first: who acknowledged or shelved what, and why.',
        links: [deviceLink(true)],
        targets: influxql(`
          SELECT "priority", "alarm", "action", "state", "by", "comment", "park", "site", "device"
          FROM ${raw('alarm_event')} WHERE "park" =~ /^$park$/ AND $timeFilter
          ORDER BY time DESC LIMIT 100`).table(),
      }),
      12,
    );
  return dashboard;
}
