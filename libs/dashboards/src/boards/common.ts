import {
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { Layout } from '../panels.js';
import { matchVars } from '../query.js';

/** Dashboard uids: stable, so that links and alert rules can point at them. */
export const UID = {
  overview: 'parkpulse-overview',
  scienceCity: 'parkpulse-science-city',
  yuzhu: 'parkpulse-yuzhu',
  knowledgeCity: 'parkpulse-knowledge-city',
  bioIsland: 'parkpulse-bio-island',
  device: 'parkpulse-device',
  platform: 'parkpulse-platform',
} as const;

/** Every ParkPulse dashboard carries this tag; the links bar lists them all. */
export const TAG = 'parkpulse';

/** A dashboard with ParkPulse's defaults: UTC+8 browser time, 6 h, 30 s refresh, links bar. */
export function board(uid: string, title: string, description: string, tags: string[]) {
  const dashboard = new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags([TAG, ...tags])
    .timezone('browser')
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .readonly()
    .link(
      new DashboardLinkBuilder('ParkPulse')
        .type(DashboardLinkType.Dashboards)
        .tags([TAG])
        .asDropdown(true)
        .includeVars(false)
        .keepTime(true),
    );
  return { dashboard, layout: new Layout(dashboard) };
}

/** Link into the device detail of a series' device (time range kept). */
export const deviceLink = (fromTable = false) => {
  const f = (tag: string) => (fromTable ? `\${__data.fields.${tag}}` : `\${__field.labels.${tag}}`);
  return {
    title: 'Device detail',
    url:
      `/d/${UID.device}/device-detail?var-park=${f('park')}&var-site=${f('site')}` +
      `&var-device=${f('device')}&\${__url_time_range}`,
  };
};

/** The standard condition of an area dashboard's panels: its park, site(s), device(s), range. */
export const inScope = (...tags: string[]) =>
  `${matchVars(...(tags.length ? tags : ['park', 'site', 'device']))} AND $timeFilter`;
