import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import {
  BigValueColorMode,
  BigValueGraphMode,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  VizLegendOptionsBuilder,
  BarGaugeDisplayMode,
  VizOrientation,
  VisibilityMode,
} from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DashboardLinkBuilder,
  MappingType,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type GridPos,
  type Panel,
  type Threshold,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarGaugeBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelineBuilder } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { MACHINE_STATES } from '@parkpulse/telemetry';
import { thresholdSteps } from './fields.js';
import { DATASOURCE, type InfluxQLQueryBuilder } from './query.js';
import type { MetricSpec } from '@parkpulse/telemetry';

type Targets = InfluxQLQueryBuilder | InfluxQLQueryBuilder[];

interface Common {
  readonly title: string;
  readonly description: string;
  readonly targets: Targets;
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  readonly decimals?: number;
  readonly steps?: Threshold[];
  readonly mappings?: ValueMapping[];
  /** Data links of the values (e.g. into the device detail). */
  readonly links?: { title: string; url: string }[];
}

const asList = (t: Targets) => (Array.isArray(t) ? t : [t]);

/** Every panel builder shares these setters; apply the common options once. */
interface CommonSetters<T> {
  title(v: string): T;
  description(v: string): T;
  datasource(v: typeof DATASOURCE): T;
  withTarget(v: InfluxQLQueryBuilder): T;
  unit(v: string): T;
  min(v: number): T;
  max(v: number): T;
  decimals(v: number): T;
  thresholds(v: ThresholdsConfigBuilder): T;
  mappings(v: ValueMapping[]): T;
  dataLinks(v: DashboardLinkBuilder[]): T;
}

function common<T extends CommonSetters<T>>(panel: T, o: Common): T {
  panel.title(o.title).description(o.description).datasource(DATASOURCE);
  for (const t of asList(o.targets)) panel.withTarget(t);
  if (o.unit) panel.unit(o.unit);
  if (o.min !== undefined) panel.min(o.min);
  if (o.max !== undefined) panel.max(o.max);
  if (o.decimals !== undefined) panel.decimals(o.decimals);
  if (o.steps)
    panel.thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(o.steps));
  if (o.mappings) panel.mappings(o.mappings);
  if (o.links) panel.dataLinks(o.links.map((l) => new DashboardLinkBuilder(l.title).url(l.url)));
  return panel;
}

/** Unit, range and thresholds of a catalogue metric, for `Common`. */
export const fromCatalogue = (spec: MetricSpec) => ({
  unit: spec.unit || 'none',
  ...(spec.thresholds ? { steps: thresholdSteps(spec) } : {}),
});

export function timeseries(o: Common & { thresholdLines?: boolean; stacked?: boolean }) {
  const p = common(new TimeseriesBuilder(), o)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom),
    )
    .fillOpacity(10)
    .spanNulls(true);
  if (o.thresholdLines)
    p.thresholdsStyle(
      new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.DashedAndArea),
    );
  return p;
}

/**
 * Big numbers. `colours`: a fixed colour per series whose display name ends in the key (e.g. the
 * column of a multi-column query), instead of the thresholds'.
 */
export function stat(
  o: Common & { reducer?: string; graph?: boolean; colours?: Record<string, string> },
) {
  const p = common(new StatBuilder(), o)
    .colorMode(BigValueColorMode.Background)
    .graphMode(o.graph ? BigValueGraphMode.Area : BigValueGraphMode.None)
    .reduceOptions(
      new ReduceDataOptionsBuilder().calcs([o.reducer ?? 'lastNotNull']).values(false),
    );
  for (const [suffix, colour] of Object.entries(o.colours ?? {}))
    p.overrideByRegexp(`.*${suffix}$`, [
      { id: 'color', value: { mode: 'fixed', fixedColor: colour } },
    ]);
  return p;
}

/** One bar per row of a table-format query (per-device or per-line figures). */
export function barGauge(o: Common) {
  return common(new BarGaugeBuilder(), o)
    .displayMode(BarGaugeDisplayMode.Gradient)
    .orientation(VizOrientation.Horizontal)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(true));
}

export function table(o: Common) {
  return common(new TableBuilder(), o);
}

export function stateTimeline(o: Common) {
  return common(new StateTimelineBuilder(), o).showValue(VisibilityMode.Never).mergeValues(true);
}

const STATE_COLOURS: Record<string, string> = {
  running: 'green',
  idle: 'yellow',
  setup: 'blue',
  fault: 'red',
  maintenance: 'purple',
};

/** Colours of the machine states (the same in every timeline). */
export const machineStateMappings = (): ValueMapping[] => [
  {
    type: MappingType.ValueToText,
    options: Object.fromEntries(
      MACHINE_STATES.map((s, index) => [s, { color: STATE_COLOURS[s] ?? 'text', index }]),
    ),
  },
];

/** true/false shown as words with colours (`good` = the colour of true). */
export const booleanMappings = (onTrue: string, onFalse: string, good: 'true' | 'false') => [
  {
    type: MappingType.ValueToText as const,
    options: {
      true: { text: onTrue, color: good === 'true' ? 'green' : 'red', index: 0 },
      false: { text: onFalse, color: good === 'false' ? 'green' : 'red', index: 1 },
    },
  },
];

type Placeable = Builder<Panel> & { gridPos(g: GridPos): unknown };

/**
 * Lays panels out left to right in rows of 24 grid units, with titled section rows.
 */
export class Layout {
  private x = 0;
  private y = 0;
  private rowHeight = 0;

  constructor(readonly dashboard: DashboardBuilder) {}

  section(title: string): this {
    this.newLine();
    this.dashboard.withRow(new RowBuilder(title).gridPos({ x: 0, y: this.y, w: 24, h: 1 }));
    this.y += 1;
    return this;
  }

  add(panel: Placeable, w: number, h = 8): this {
    if (this.x + w > 24) this.newLine();
    panel.gridPos({ x: this.x, y: this.y, w, h });
    this.dashboard.withPanel(panel);
    this.x += w;
    this.rowHeight = Math.max(this.rowHeight, h);
    return this;
  }

  private newLine(): void {
    if (this.x === 0) return;
    this.y += this.rowHeight;
    this.x = 0;
    this.rowHeight = 0;
  }
}
