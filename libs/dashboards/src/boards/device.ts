import {
  AnnotationQueryBuilder,
  MappingType,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { ASSET_TYPES } from '@parkpulse/telemetry';
import { booleanMappings, stateTimeline, table, timeseries } from '../panels.js';
import { DATASOURCE, influxql, influxqlAnnotation, raw } from '../query.js';
import { deviceVariable, parkVariable, rpVariable, siteVariable } from '../variables.js';
import { UID, board } from './common.js';

const ONE_DEVICE = `"park" =~ /^$park$/ AND "site" =~ /^$site$/ AND "device" = '$device'`;

export function deviceDetail() {
  const { dashboard, layout } = board(
    UID.device,
    'Device detail',
    'Everything one device reported: every metric, its connection history and its events.',
    ['device'],
  );
  // The asset type of the chosen device = the catalogue measurement that has its series.
  const assetTypes = ASSET_TYPES.map((a) => a.id)
    .sort()
    .join('|');
  dashboard
    .withVariable(rpVariable())
    .withVariable(parkVariable().multi(false).includeAll(false))
    .withVariable(siteVariable('device_status').multi(false).includeAll(false))
    .withVariable(deviceVariable('device_status', 'Device', false))
    .withVariable(
      new QueryVariableBuilder('asset')
        .label('Asset type')
        .datasource(DATASOURCE)
        .query(
          `SHOW MEASUREMENTS WITH MEASUREMENT =~ /^(${assetTypes})$/ WHERE "device" = '$device'`,
        )
        .refresh(VariableRefresh.OnDashboardLoad)
        .sort(VariableSort.AlphabeticalAsc),
    )
    // The operations service's alarms (docs/alarms.md) on every time axis: each raise, with
    // its priority and alarm as the annotation's tags.
    .annotation(
      new AnnotationQueryBuilder()
        .name('Alarms raised')
        .datasource(DATASOURCE)
        .enable(true)
        .iconColor('red')
        .target(
          influxqlAnnotation(
            `SELECT "id", "priority", "alarm" FROM ${raw('alarm_event')}
             WHERE ${ONE_DEVICE} AND "action" = 'activate' AND $timeFilter`,
            { text: 'id', tags: ['priority', 'alarm'] },
          ),
        ),
    );
  layout
    .section('Telemetry')
    .add(
      table({
        title: 'Latest values',
        description: 'The last value of every metric in the time range.',
        targets: influxql(
          `SELECT last(*) FROM "$rp"."$asset" WHERE ${ONE_DEVICE} AND $timeFilter`,
        ).table(),
      }),
      24,
      5,
    )
    .add(
      timeseries({
        title: 'Numeric metrics',
        description: 'Every numeric metric of the device (toggle series in the legend).',
        targets: influxql(`
          SELECT mean(*) FROM "$rp"."$asset" WHERE ${ONE_DEVICE} AND $timeFilter
          GROUP BY time($__interval) fill(none)`).alias('$col'),
      }),
      24,
      12,
    )
    .section('Connection and events')
    .add(
      stateTimeline({
        title: 'Connection and presence',
        description:
          'Connected or not as the broker saw it (connect, disconnect, last will), and the presence the ingestion derived: online, stale (connected but silent), offline, flapping.',
        mappings: [
          ...booleanMappings('connected', 'disconnected', 'true'),
          {
            type: MappingType.ValueToText,
            options: {
              online: { color: 'green', index: 2 },
              stale: { color: 'orange', index: 3 },
              offline: { color: 'red', index: 4 },
              flapping: { color: 'purple', index: 5 },
            },
          },
        ],
        targets: [
          influxql(`
            SELECT last("online") AS "connected" FROM "device_status" WHERE ${ONE_DEVICE} AND time > now() - 30d
            GROUP BY time($__interval) fill(previous)`),
          influxql(
            `SELECT last("presence") AS "presence" FROM "device_status" WHERE ${ONE_DEVICE} AND time > now() - 30d
            GROUP BY time($__interval) fill(previous)`,
            'B',
          ),
        ],
      }),
      12,
      6,
    )
    .add(
      table({
        title: 'Events',
        description: 'Everything the device reported on its event channel, newest first.',
        targets: influxql(`
          SELECT "severity", "code", "message" FROM "device_event" WHERE ${ONE_DEVICE} AND $timeFilter
          ORDER BY time DESC LIMIT 200`).table(),
      }),
      12,
      6,
    )
    .add(
      table({
        title: 'Alarm history',
        description:
          "Every transition of the device's alarms as the operations service recorded it (raised, acknowledged with who and why, shelved, returned to normal), newest first. Acting on them: the operator console.",
        targets: influxql(`
          SELECT "priority", "alarm", "action", "state", "by", "comment", "value" FROM ${raw('alarm_event')}
          WHERE ${ONE_DEVICE} AND $timeFilter ORDER BY time DESC LIMIT 200`).table(),
      }),
      24,
      6,
    )
    .section('Commands')
    .add(
      table({
        title: 'Command history',
        description:
          "Every state change of the commands sent to the device, as the operations service recorded it (queued, sent, delivered = the device's PUBACK, accepted, then done, failed, rejected, expired or cancelled), with who asked and why it ended, newest first. Sending one: the operator console or the API.",
        targets: influxql(`
          SELECT "command", "status", "id", "by", "detail" FROM ${raw('device_command')}
          WHERE ${ONE_DEVICE} AND "source" = 'operations' AND $timeFilter
          ORDER BY time DESC LIMIT 200`).table(),
      }),
      24,
      6,
    );
  return dashboard;
}
