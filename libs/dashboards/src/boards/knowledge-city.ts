import { areaVariables } from '../variables.js';
import { UID, board } from './common.js';
import { metricTrend, summedNow, summedTrend } from './trend.js';

export function knowledgeCity() {
  const { dashboard, layout } = board(
    UID.knowledgeCity,
    'Knowledge City — digital hub',
    'The 5G base stations and the edge data-centre racks of the Knowledge City digital hub.',
    ['knowledge-city', 'network'],
  );
  dashboard.variables(areaVariables('knowledge-city', 'base_station_5g'));
  layout
    .section('5G base stations')
    .add(
      summedNow('base_station_5g', 'connected_ue', {
        title: 'Connected devices now',
        description: 'User equipment attached to all cells.',
      }),
      6,
      5,
    )
    .add(
      summedNow('base_station_5g', 'power_kw', {
        title: 'Base-station power now',
        description: "Sum of the base stations' power.",
      }),
      6,
      5,
    )
    .add(
      summedNow('edge_rack', 'it_power_kw', {
        title: 'Edge IT power now',
        description: "Sum of the edge racks' IT load.",
      }),
      6,
      5,
    )
    .add(
      summedNow('base_station_5g', 'active_alarms', {
        title: 'Active base-station alarms',
        description: "Alarms raised by the base stations' own management.",
      }),
      6,
      5,
    )
    .add(
      summedTrend('base_station_5g', 'dl_throughput_mbps', {
        title: 'Downlink traffic',
        description: 'Downlink throughput of all cells of a site.',
      }),
      12,
    )
    .add(
      summedTrend('base_station_5g', 'ul_throughput_mbps', {
        title: 'Uplink traffic',
        description: 'Uplink throughput of all cells of a site.',
      }),
      12,
    )
    .add(
      metricTrend('base_station_5g', 'prb_utilisation_dl_pct', {
        title: 'PRB use, downlink',
        description:
          'Share of physical resource blocks in use; above 70 % the cell is getting busy.',
        fn: 'max',
      }),
      12,
    )
    .add(
      metricTrend('base_station_5g', 'power_kw', {
        title: 'Base-station power',
        description: 'Electrical power of each base station.',
      }),
      12,
    )
    .section('Edge racks')
    .add(
      metricTrend('edge_rack', 'it_power_kw', {
        title: 'Rack IT power',
        description: 'IT load of each rack.',
      }),
      8,
    )
    .add(
      metricTrend('edge_rack', 'inlet_temp_c', {
        title: 'Rack inlet temperature',
        description: 'Inlet air of each rack; ASHRAE A1 recommends ≤ 27 °C.',
        fn: 'max',
      }),
      8,
    )
    .add(
      metricTrend('edge_rack', 'cpu_utilisation_pct', {
        title: 'CPU utilisation',
        description: "Mean CPU utilisation of each rack's servers.",
      }),
      8,
    );
  return dashboard;
}
