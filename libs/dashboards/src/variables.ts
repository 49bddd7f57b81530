import {
  ConstantVariableBuilder,
  CustomVariableBuilder,
  QueryVariableBuilder,
  VariableHide,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { META_RETENTION_POLICY, RP_CONFIG_MEASUREMENT } from '@parkpulse/influx';
import type { ParkId } from '@parkpulse/telemetry';
import { DATASOURCE, matchVars, q } from './query.js';

/**
 * `$rp`: the storage tier for the dashboard's time range (raw up to 2 days, then the 1-minute and
 * the 1-hour roll-ups), looked up in `rp_config`; re-evaluated whenever the time range changes.
 */
export const rpVariable = () =>
  new QueryVariableBuilder('rp')
    .label('Storage tier')
    .description('Raw points for short ranges, roll-ups for long ones (chosen by the time range)')
    .datasource(DATASOURCE)
    .query(
      `SELECT "rp" FROM ${q(META_RETENTION_POLICY)}.${q(RP_CONFIG_MEASUREMENT)} ` +
        'WHERE "lower_ms" < ${__to} - ${__from} AND "upper_ms" >= ${__to} - ${__from}',
    )
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .hide(VariableHide.HideVariable);

/** `$park` fixed to one park (area dashboards). */
export const fixedPark = (park: ParkId) =>
  new ConstantVariableBuilder('park').value(park).label('Park');

/** `$park` to choose (multi, All). */
export const parkVariable = () =>
  new QueryVariableBuilder('park')
    .label('Park')
    .datasource(DATASOURCE)
    .query('SHOW TAG VALUES FROM "device_status" WITH KEY = "park"')
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');

/** `$site`: the sites (factories, buildings) of the chosen park(s) that report `measurement`. */
export const siteVariable = (measurement: string, label = 'Site') =>
  new QueryVariableBuilder('site')
    .label(label)
    .datasource(DATASOURCE)
    .query(`SHOW TAG VALUES FROM ${q(measurement)} WITH KEY = "site" WHERE ${matchVars('park')}`)
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');

/**
 * `$device` among the devices of the chosen park(s) and site(s) (that report `measurement`, when
 * given).
 */
export const deviceVariable = (measurement?: string, label = 'Device', all = true) => {
  const from = measurement ? `FROM ${q(measurement)} ` : '';
  const v = new QueryVariableBuilder('device')
    .label(label)
    .datasource(DATASOURCE)
    .query(`SHOW TAG VALUES ${from}WITH KEY = "device" WHERE ${matchVars('park', 'site')}`)
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalAsc);
  return all ? v.multi(true).includeAll(true).allValue('.*') : v;
};

/** A choice of fixed intervals (e.g. the window of an OEE figure). */
export const intervalChoice = (name: string, label: string, values: string[], current: string) =>
  new CustomVariableBuilder(name)
    .label(label)
    .values(values.join(','))
    .current({ text: current, value: current });

/** The variables every area dashboard starts with: storage tier, its park, site and device. */
export const areaVariables = (park: ParkId, siteMeasurement: string, siteLabel = 'Site') => [
  rpVariable(),
  fixedPark(park),
  siteVariable(siteMeasurement, siteLabel),
  deviceVariable(),
];
