import {
  ContactPointBuilder,
  QueryBuilder,
  RuleBuilder,
  RuleGroupBuilder,
  type Rule,
} from '@grafana/grafana-foundation-sdk/alerting';
import { TypeReduceBuilder, TypeThresholdBuilder } from '@grafana/grafana-foundation-sdk/expr';
import { metric } from './fields.js';
import { STATEFUL_MACHINES } from './boards/science-city.js';
import { UID } from './boards/common.js';
import { DATASOURCE, influxql, raw } from './query.js';

/** Grafana's server-side expressions datasource. */
const EXPRESSIONS = { type: '__expr__', uid: '__expr__' };

/** Where provisioned rules live (a folder of that title is created by the provisioning). */
export const ALERT_FOLDER = 'ParkPulse alerts';

/** The placeholder contact point: replace its settings (or the whole file) with your receiver. */
export const CONTACT_POINT = 'parkpulse-operators';

interface AlertSpec {
  readonly uid: string;
  readonly title: string;
  readonly summary: string;
  /** The InfluxQL of query A: one series per alerting instance (device …), numeric. */
  readonly query: string;
  /** How far back query A looks, s. */
  readonly lookbackS: number;
  readonly reducer: 'last' | 'max' | 'mean' | 'sum';
  readonly threshold: { type: 'gt' | 'lt'; value: number };
  readonly for: string;
  readonly severity: 'warning' | 'critical';
  readonly dashboardUid: string;
  /** What no data means: usually that nothing is wrong. */
  readonly noData?: 'OK' | 'NoData' | 'Alerting';
}

const freezer = metric('ultra_low_freezer', 'cabinet_temp_c').thresholds!;

/** The alert rules, with their InfluxQL (a test runs each against a real InfluxDB). */
export const ALERTS: readonly AlertSpec[] = [
  {
    uid: 'parkpulse-machine-fault',
    title: 'Machine in fault for more than 5 minutes',
    summary: '{{ $labels.device }} ({{ $labels.site }}) has been in fault for over 5 minutes.',
    query: `SELECT count("state") FROM "raw"./^(${[...STATEFUL_MACHINES, 'air_compressor'].sort().join('|')})$/
      WHERE "state" = 'fault' AND $timeFilter GROUP BY "park", "site", "device"`,
    lookbackS: 60,
    reducer: 'last',
    threshold: { type: 'gt', value: 0 },
    for: '5m',
    severity: 'critical',
    dashboardUid: UID.scienceCity,
  },
  {
    uid: 'parkpulse-device-offline',
    title: 'Device offline for more than 2 minutes',
    summary:
      '{{ $labels.device }} ({{ $labels.park }}/{{ $labels.site }}) disconnected or its last will was published.',
    query: `SELECT count("online") FROM (
        SELECT last("online") AS "online" FROM "device_status" WHERE $timeFilter GROUP BY "park", "site", "device")
      WHERE "online" = false GROUP BY "park", "site", "device"`,
    lookbackS: 30 * 86_400,
    reducer: 'last',
    threshold: { type: 'gt', value: 0 },
    for: '2m',
    severity: 'warning',
    dashboardUid: UID.device,
  },
  {
    uid: 'parkpulse-freezer-warm',
    title: `Freezer above ${freezer.critical} °C`,
    summary: '{{ $labels.device }} cabinet at {{ $values.B }} °C.',
    query: `SELECT mean("cabinet_temp_c") FROM ${raw('ultra_low_freezer')}
      WHERE $timeFilter GROUP BY "park", "site", "device"`,
    lookbackS: 300,
    reducer: 'last',
    threshold: { type: 'gt', value: freezer.critical },
    for: '5m',
    severity: 'critical',
    dashboardUid: UID.bioIsland,
  },
  {
    uid: 'parkpulse-cascade-lost',
    title: 'Laboratory pressure cascade lost',
    summary:
      '{{ $labels.device }}: the lab is not below its anteroom (difference {{ $values.B }} Pa) — air may flow out of containment.',
    query: `SELECT mean("room_pressure_pa") - mean("anteroom_pressure_pa") FROM ${raw('bsl_laboratory')}
      WHERE $timeFilter GROUP BY "park", "site", "device"`,
    lookbackS: 60,
    reducer: 'last',
    threshold: { type: 'gt', value: 0 },
    for: '1m',
    severity: 'critical',
    dashboardUid: UID.bioIsland,
  },
  {
    uid: 'parkpulse-rejects-rising',
    title: 'Ingest rejects rising',
    summary:
      '{{ $values.B }} dead letters or dropped fields in 5 minutes: a firmware or catalogue change?',
    query: `SELECT sum("rejects") FROM ${raw('platform_ingestion')} WHERE $timeFilter`,
    lookbackS: 300,
    reducer: 'last',
    threshold: { type: 'gt', value: 50 },
    for: '5m',
    severity: 'warning',
    dashboardUid: UID.platform,
    noData: 'NoData',
  },
];

function rule(spec: AlertSpec) {
  return new RuleBuilder(spec.title)
    .uid(spec.uid)
    .condition('C')
    .withQuery(
      new QueryBuilder('A')
        .datasourceUid(DATASOURCE.uid ?? '')
        .relativeTimeRange({ from: spec.lookbackS, to: 0 })
        .model(influxql(spec.query)),
    )
    .withQuery(
      new QueryBuilder('B')
        .datasourceUid(EXPRESSIONS.uid)
        .model(new TypeReduceBuilder().refId('B').expression('A').reducer(spec.reducer)),
    )
    .withQuery(
      new QueryBuilder('C').datasourceUid(EXPRESSIONS.uid).model(
        new TypeThresholdBuilder()
          .refId('C')
          .expression('B')
          .conditions([
            { evaluator: { type: spec.threshold.type, params: [spec.threshold.value] } },
          ]),
      ),
    )
    .forDuration(spec.for)
    .noDataState(spec.noData ?? 'OK')
    .execErrState('Error')
    .labels({ severity: spec.severity, team: 'park-operations' })
    .annotations({ summary: spec.summary, __dashboardUid__: spec.dashboardUid });
}

/**
 * The alerting provisioning file (Grafana's file format: `groups`, `contactPoints`, `policies`).
 * The SDK builds each rule; the file's group wrapper is Grafana's provisioning schema, which names
 * the folder by title and the interval as a duration.
 */
export function alertingProvisioning() {
  const group = new RuleGroupBuilder('parkpulse').interval(60).rules(ALERTS.map(rule)).build();
  const contactPoint = new ContactPointBuilder()
    .uid(CONTACT_POINT)
    .name(CONTACT_POINT)
    .type('email')
    .settings({ addresses: 'operators@example.invalid', singleEmail: true })
    .disableResolveMessage(false)
    .build();
  const fileRule = (r: Rule) => {
    const { orgID: _org, folderUID: _folder, ruleGroup: _group, ...rest } = r;
    return {
      ...rest,
      data: rest.data.map((d) => ({ ...d, model: { refId: d.refId, ...d.model } })),
    };
  };
  return {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: group.title,
        folder: ALERT_FOLDER,
        interval: `${group.interval}s`,
        rules: (group.rules ?? []).map(fileRule),
      },
    ],
    contactPoints: [
      {
        orgId: 1,
        name: CONTACT_POINT,
        receivers: [
          {
            uid: contactPoint.uid,
            type: contactPoint.type,
            settings: contactPoint.settings as Record<string, unknown>,
            disableResolveMessage: contactPoint.disableResolveMessage,
          },
        ],
      },
    ],
    policies: [{ orgId: 1, receiver: CONTACT_POINT, group_by: ['alertname', 'park', 'site'] }],
  };
}
