// Runs every query a provisioned Grafana dashboard would send to InfluxDB (InfluxQL): first the
// template variables in order, as Grafana resolves them on load, then every panel target, each
// interpolated with the interval Grafana would compute for its panel. The caller supplies the
// actual InfluxDB access, so the same code serves unit tests (a fake) and an integration test.
import {
  calculateInterval,
  interpolateInfluxQL,
  parseDuration,
  type InterpolationContext,
  type TimeRange,
  type VariableValue,
} from './interpolate.js';

/** One series of one statement's result, as in the InfluxDB 1.x `/query` JSON response. */
export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Runs one InfluxQL statement; rejects with the InfluxDB error. */
export type QueryFn = (influxql: string) => Promise<InfluxSeries[]>;

/** A data source reference of a panel or target. */
export interface DatasourceRef {
  type?: string;
  uid?: string;
}

/** A panel query (InfluxDB data source). */
export interface GrafanaTarget {
  refId?: string;
  query?: string;
  /** Grafana only sends `query` when this is true; otherwise it builds from the editor fields. */
  rawQuery?: boolean;
  hide?: boolean;
  datasource?: DatasourceRef | string | null;
}

/** A dashboard panel, or a row (`type: 'row'`, its panels nested when collapsed). */
export interface GrafanaPanel {
  type?: string;
  title?: string;
  id?: number;
  datasource?: DatasourceRef | string | null;
  targets?: GrafanaTarget[];
  maxDataPoints?: number | null;
  /** The panel's "Min interval". */
  interval?: string | null;
  /** Relative time override, e.g. '24h'. */
  timeFrom?: string | null;
  /** Time shift, e.g. '1d'. */
  timeShift?: string | null;
  /** Name of the variable the panel (or row) is repeated for. */
  repeat?: string | null;
  collapsed?: boolean;
  panels?: GrafanaPanel[];
}

/** The template variable types of a dashboard. */
export type GrafanaVariableType =
  'query' | 'custom' | 'constant' | 'interval' | 'datasource' | 'textbox' | 'adhoc';

/** A variable option or current selection as stored in dashboard JSON. */
export interface GrafanaVariableOption {
  text?: string | string[];
  value?: string | string[];
  selected?: boolean;
}

/** A template variable as stored in dashboard JSON (schemaVersion ~39–42). */
export interface GrafanaVariable {
  name: string;
  type: GrafanaVariableType;
  /** The query text; the InfluxDB variable editor stores `{ query, refId }`. */
  query?: string | { query?: string } | null;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  current?: GrafanaVariableOption | null;
  options?: GrafanaVariableOption[];
  refresh?: number;
  /** Filter/extract regex for query results, e.g. '/^line-(.*)$/'. */
  regex?: string | null;
  /** 0 as returned, 1/2 alphabetical, 3/4 numerical, 5/6 case-insensitive, 7/8 natural. */
  sort?: number;
  /** Interval variables: offer "auto". */
  auto?: boolean;
  auto_count?: number;
  auto_min?: string;
}

/** The parts of a dashboard JSON model that decide its queries. */
/** An annotation query of a dashboard (`builtIn` ones are Grafana's own, not InfluxDB's). */
export interface GrafanaAnnotation {
  name?: string;
  enable?: boolean;
  builtIn?: number;
  datasource?: DatasourceRef | string | null;
  target?: GrafanaTarget;
}

export interface GrafanaDashboard {
  title: string;
  uid?: string;
  time?: { from: string; to: string };
  templating?: { list?: GrafanaVariable[] };
  annotations?: { list?: GrafanaAnnotation[] };
  panels?: GrafanaPanel[];
}

/** Chooses a variable's selection: a value, several values, or 'all' for the All option. */
// eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- documents 'all'
export type PickResult = string | string[] | 'all';

/** See {@link RunDashboardOptions.pick}. */
export type PickFn = (variable: string, values: string[]) => PickResult;

/** How to run a dashboard. */
export interface RunDashboardOptions {
  /** The dashboard time range. Its `to` also plays "now" for panel time overrides. */
  range: TimeRange;
  /** The data source's `timeInterval` (lowest `$__interval`); default '10s'. */
  minInterval?: string;
  /** Max data points of panels without `maxDataPoints` (Grafana: panel width px); default 1000. */
  width?: number;
  /**
   * Overrides Grafana's selection (current value if still offered, else All when the variable
   * includes it, else the first value) of query, custom and interval variables.
   */
  pick?: PickFn;
}

/** One query that was run, or could not be. */
export interface QueryCheck {
  kind: 'variable' | 'panel' | 'annotation';
  /** Panel title (with ` (var=value)` for repeats) or '$name' of a variable. */
  title: string;
  refId?: string;
  /** The interpolated InfluxQL. */
  query: string;
  series: InfluxSeries[];
  error?: string;
}

/** The result of {@link runDashboard}. */
export interface DashboardRun {
  dashboard: string;
  checks: QueryCheck[];
  /** The variables as selected for the panel queries. */
  variables: Record<string, VariableValue>;
}

const ALL_VALUE = '$__all';
const RAW_QUERY_OFF =
  'rawQuery is not true: Grafana would ignore "query" and build InfluxQL from the visual editor fields';

interface Settings {
  range: TimeRange;
  minInterval: string;
  width: number;
  pick: PickFn | undefined;
}

/**
 * Runs every variable query and every panel target of `dashboard` the way Grafana 11 would
 * (see the module notes), recording one {@link QueryCheck} per query. Query failures are
 * recorded, never thrown.
 */
export async function runDashboard(
  dashboard: GrafanaDashboard,
  query: QueryFn,
  options: RunDashboardOptions,
): Promise<DashboardRun> {
  const settings: Settings = {
    range: options.range,
    minInterval: options.minInterval ?? '10s',
    width: options.width ?? 1000,
    pick: options.pick,
  };
  parseDuration(settings.minInterval); // fail fast on a bad option
  const variables: Record<string, VariableValue> = {};
  const checks: QueryCheck[] = [];
  for (const variable of dashboard.templating?.list ?? []) {
    const resolved = await resolveVariable(variable, variables, query, settings, checks);
    if (resolved) variables[variable.name] = resolved;
  }
  const root: Scope = { values: {}, labels: [] };
  for (const instance of expandPanels(dashboard.panels ?? [], variables, root)) {
    checks.push(...(await runPanel(instance, variables, query, settings)));
  }
  // Annotations run over the dashboard's range, as a panel without options of its own would.
  for (const annotation of dashboard.annotations?.list ?? []) {
    const target = annotation.target;
    const host: GrafanaPanel = { datasource: annotation.datasource ?? null };
    if (annotation.builtIn === 1 || annotation.enable === false || !target?.query?.trim()) continue;
    if (!isInfluxTarget(target, host)) continue;
    const title = `annotation ${annotation.name ?? '?'}`;
    const check = await runTarget(target, target.query, host, title, variables, query, settings);
    checks.push({ ...check, kind: 'annotation' });
  }
  return { dashboard: dashboard.title, checks, variables };
}

/**
 * Lists the failed checks of a run, one entry per check, as
 * `<dashboard> / <title> [<refId>]: <error or 'no data'>\n  <query>`. Without `requireData`
 * only errors count; with it (default) also queries that returned no data (see {@link hasData}).
 */
export function failures(run: DashboardRun, requireData = true): string[] {
  return run.checks
    .filter((check) => check.error !== undefined || (requireData && !hasData(check.series)))
    .map((check) => {
      const ref = check.refId ? ` [${check.refId}]` : '';
      return `${run.dashboard} / ${check.title}${ref}: ${check.error ?? 'no data'}\n  ${check.query}`;
    });
}

/** True when some series has a row with a non-null value outside the `time` column. */
export function hasData(series: readonly InfluxSeries[]): boolean {
  return series.some((s) => {
    const timeIndex = timeColumn(s);
    return s.values.some((row) =>
      row.some((value, i) => i !== timeIndex && value !== null && value !== undefined),
    );
  });
}

/**
 * The options Grafana 11 gets from a variable query's result (server-side InfluxQL parsing +
 * `toMetricFindValue`): for series with a time column every other column's values, column by
 * column; otherwise column 1 (`value`) for `SHOW TAG VALUES` and column 0 for every other
 * statement (`SHOW MEASUREMENTS`, `SHOW FIELD KEYS`, …). Nulls are dropped, duplicates removed.
 */
export function variableValuesFromSeries(
  influxql: string,
  series: readonly InfluxSeries[],
): string[] {
  const showTagValues =
    /^\s*SHOW\s+TAG\s+VALUES\b/i.test(influxql) && !/\bCARDINALITY\b/i.test(influxql);
  const values = new Set<string>();
  for (const s of series) {
    const timeIndex = timeColumn(s);
    const columns =
      timeIndex >= 0
        ? s.columns.map((_, i) => i).filter((i) => i !== timeIndex)
        : [showTagValues ? 1 : 0];
    for (const column of columns) {
      for (const row of s.values) {
        const value = row[column];
        if (value !== null && value !== undefined) values.add(valueText(value));
      }
    }
  }
  return [...values];
}

function timeColumn(series: InfluxSeries): number {
  return series.columns.findIndex((column) => column.toLowerCase() === 'time');
}

function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

function contextFor(
  range: TimeRange,
  maxDataPoints: number,
  minInterval: string,
  variables: Record<string, VariableValue>,
): InterpolationContext {
  return { range, ...calculateInterval(range, maxDataPoints, minInterval), variables };
}

// ---------------------------------------------------------------------------------------------
// Variables

async function resolveVariable(
  variable: GrafanaVariable,
  variables: Record<string, VariableValue>,
  query: QueryFn,
  settings: Settings,
  checks: QueryCheck[],
): Promise<VariableValue | undefined> {
  switch (variable.type) {
    case 'query': {
      const ctx = contextFor(settings.range, settings.width, settings.minInterval, variables);
      const check = await runVariableQuery(variable, ctx, query);
      checks.push(check.check);
      return selectValue(variable, check.values, settings.pick);
    }
    case 'custom':
      return selectValue(variable, customValues(queryText(variable)), settings.pick);
    case 'constant':
      return single(queryText(variable));
    case 'textbox':
      return single(currentValues(variable.current)[0] ?? queryText(variable));
    case 'interval':
      return intervalValue(variable, settings);
    case 'datasource':
    case 'adhoc':
      return undefined;
  }
}

async function runVariableQuery(
  variable: GrafanaVariable,
  ctx: InterpolationContext,
  query: QueryFn,
): Promise<{ check: QueryCheck; values: string[] }> {
  const check: QueryCheck = { kind: 'variable', title: `$${variable.name}`, query: '', series: [] };
  try {
    check.query = interpolateInfluxQL(queryText(variable), ctx);
    check.series = await query(check.query);
    const found = variableValuesFromSeries(check.query, check.series);
    const values = sortValues(applyVariableRegex(found, variable.regex), variable.sort);
    if (values.length === 0) {
      check.error = found.length > 0 ? `no values match regex ${variable.regex}` : 'no values';
    }
    return { check, values };
  } catch (error) {
    check.error = errorMessage(error);
    return { check, values: [] };
  }
}

function queryText(variable: GrafanaVariable): string {
  const { query } = variable;
  if (typeof query === 'string') return query;
  return query?.query ?? '';
}

function single(value: string): VariableValue {
  return { value, multi: false, includeAll: false };
}

function currentValues(current: GrafanaVariableOption | null | undefined): string[] {
  const value = current?.value;
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

/** Grafana's custom variable syntax: comma-separated (`\,` escapes), `text : value` pairs. */
function customValues(query: string): string[] {
  return (query.match(/(?:\\,|[^,])+/g) ?? []).map((part) => {
    const text = part.replace(/\\,/g, ',');
    const pair = /^\s*(.+)\s:\s(.+)$/.exec(text);
    return (pair?.[2] ?? text).trim();
  });
}

/**
 * Grafana's selection on load: the pick, else the stored current value(s) still on offer, else
 * All when included, else the first value. No values at all select an empty value.
 */
function selectValue(variable: GrafanaVariable, values: string[], pick?: PickFn): VariableValue {
  const base = {
    multi: variable.multi === true,
    includeAll: variable.includeAll === true,
    allValue: variable.allValue ?? null,
  };
  const empty: VariableValue = { ...base, value: base.multi ? [] : '', isAll: false };
  const all: VariableValue = { ...base, value: values, isAll: true };
  if (values.length === 0) return empty;
  if (pick) {
    const picked = pick(variable.name, values);
    if (picked === 'all' && !values.includes('all')) return all;
    return { ...base, value: picked, isAll: false };
  }
  const current = currentValues(variable.current);
  if (base.includeAll && current.includes(ALL_VALUE)) return all;
  const kept = current.filter((value) => values.includes(value));
  const chosen = kept.length > 0 ? kept : base.includeAll ? undefined : values.slice(0, 1);
  if (!chosen) return all;
  return { ...base, value: base.multi ? chosen : (chosen[0] ?? ''), isAll: false };
}

function intervalValue(variable: GrafanaVariable, settings: Settings): VariableValue {
  const auto = '$__auto';
  const isAuto = (value: string): boolean =>
    value === auto || value === 'auto' || value.startsWith('$__auto_interval');
  const options = queryText(variable)
    .split(',')
    .map((option) => option.trim())
    .filter((option) => option !== '');
  const offered = variable.auto ? [auto, ...options] : options;
  const picked = settings.pick?.(variable.name, offered);
  const chosen =
    (typeof picked === 'string' ? picked : picked?.[0]) ??
    currentValues(variable.current).find(
      (v) => options.includes(v) || (variable.auto && isAuto(v)),
    ) ??
    offered[0] ??
    '';
  if (!isAuto(chosen)) return single(chosen);
  const range = settings.range;
  return single(
    calculateInterval(range, variable.auto_count ?? 30, variable.auto_min ?? '10s').interval,
  );
}

/** Grafana's `stringToJsRegex`: '/body/flags', or a bare pattern matched as a whole. */
function toJsRegex(text: string): RegExp {
  if (!text.startsWith('/')) return new RegExp(`^${text}$`);
  const match = /^\/(.*)\/([gimsuy]*)$/.exec(text);
  if (!match) throw new Error(`'${text}' is not a valid regular expression`);
  return new RegExp(match[1] ?? '', match[2]);
}

function allMatches(text: string, regex: RegExp): RegExpExecArray[] {
  if (!regex.global) {
    const match = regex.exec(text);
    return match ? [match] : [];
  }
  regex.lastIndex = 0;
  const matches: RegExpExecArray[] = [];
  for (let match = regex.exec(text); match; match = regex.exec(text)) {
    matches.push(match);
    if (match[0] === '') regex.lastIndex += 1;
  }
  return matches;
}

/**
 * A variable's "Regex" option (Grafana's `metricNamesToVariableValues`): values that do not
 * match are dropped; a `value`/`text` named group or the first capture group is extracted.
 */
function applyVariableRegex(values: string[], regexText: string | null | undefined): string[] {
  if (!regexText) return values;
  const regex = toJsRegex(regexText);
  const result: string[] = [];
  for (const text of values) {
    const matches = allMatches(text, regex);
    const named = matches.find((m) => m.groups?.value ?? m.groups?.text);
    const withGroup = matches.filter((m) => m.length > 1);
    if (matches.length === 0) continue;
    if (named) {
      result.push(named.groups?.value ?? named.groups?.text ?? text);
    } else if (withGroup.length > 0) {
      const groups = matches.length > 1 ? matches : withGroup.slice(0, 1);
      for (const m of groups) if (m[1] !== undefined) result.push(m[1]);
    } else {
      result.push(text);
    }
  }
  return [...new Set(result)];
}

const naturalCollator = new Intl.Collator(undefined, { sensitivity: 'accent', numeric: true });

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function firstNumber(text: string): number {
  const digits = /\d+/.exec(text)?.[0];
  return digits === undefined ? -1 : Number.parseInt(digits, 10);
}

/** Grafana's variable sort orders (0 = as returned; odd ascending, even descending). */
function sortValues(values: string[], sort: number | undefined): string[] {
  const order = sort ?? 0;
  if (order <= 0) return values;
  const comparators: Record<number, (a: string, b: string) => number> = {
    1: compareText,
    2: (a, b) => firstNumber(a) - firstNumber(b),
    3: (a, b) => compareText(a.toLowerCase(), b.toLowerCase()),
    4: (a, b) => naturalCollator.compare(a, b),
  };
  const compare = comparators[Math.ceil(order / 2)];
  if (!compare) return values;
  const sorted = values.toSorted(compare);
  return order % 2 === 0 ? sorted.reverse() : sorted;
}

// ---------------------------------------------------------------------------------------------
// Panels

/** Variable overrides of a repeated panel or row, and their labels for the check title. */
interface Scope {
  values: Record<string, VariableValue>;
  labels: string[];
}

interface PanelInstance {
  panel: GrafanaPanel;
  scope: Scope;
}

interface LayoutItem {
  panel: GrafanaPanel;
  children: GrafanaPanel[];
}

/**
 * Groups a panel list like Grafana's layout: an expanded row owns the panels that follow it up
 * to the next row; a collapsed row owns its nested `panels` only.
 */
function layoutItems(panels: readonly GrafanaPanel[]): LayoutItem[] {
  const items: LayoutItem[] = [];
  let openRow: LayoutItem | undefined;
  for (const panel of panels) {
    if (panel.type === 'row') {
      const row: LayoutItem = { panel, children: [...(panel.panels ?? [])] };
      items.push(row);
      openRow = panel.collapsed ? undefined : row;
    } else if (openRow) {
      openRow.children.push(panel);
    } else {
      items.push({ panel, children: [] });
    }
  }
  return items;
}

/** One scope per value of the variable a panel/row repeats for (All = every value). */
function repeatScopes(
  panel: GrafanaPanel,
  variables: Record<string, VariableValue>,
  parent: Scope,
): Scope[] {
  const name = panel.repeat;
  const variable = name ? (parent.values[name] ?? variables[name]) : undefined;
  if (!name || !variable) return [parent];
  const values = typeof variable.value === 'string' ? [variable.value] : variable.value;
  if (values.length === 0) return [parent];
  return values.map((value) => ({
    values: { ...parent.values, [name]: { ...variable, value, isAll: false } },
    labels: [...parent.labels, `${name}=${value}`],
  }));
}

/** Flattens rows (expanded, collapsed, nested) and repeats into the panels Grafana shows. */
function expandPanels(
  panels: readonly GrafanaPanel[],
  variables: Record<string, VariableValue>,
  parent: Scope,
): PanelInstance[] {
  return layoutItems(panels).flatMap(({ panel, children }) =>
    repeatScopes(panel, variables, parent).flatMap((scope) =>
      panel.type === 'row' ? expandPanels(children, variables, scope) : [{ panel, scope }],
    ),
  );
}

function datasourceType(ref: DatasourceRef | string | null | undefined): string | undefined {
  return typeof ref === 'object' && ref !== null ? ref.type : undefined;
}

/** False for targets of another data source type ('datasource' = Grafana's mixed/dashboard). */
function isInfluxTarget(target: GrafanaTarget, panel: GrafanaPanel): boolean {
  const panelType = datasourceType(panel.datasource);
  const type =
    datasourceType(target.datasource) ?? (panelType === 'datasource' ? undefined : panelType);
  return type === undefined || type === 'influxdb';
}

async function runPanel(
  instance: PanelInstance,
  variables: Record<string, VariableValue>,
  query: QueryFn,
  settings: Settings,
): Promise<QueryCheck[]> {
  const { panel, scope } = instance;
  if (panel.type === 'text') return [];
  const labels = scope.labels.length > 0 ? ` (${scope.labels.join(', ')})` : '';
  const title = `${panel.title ?? `panel ${panel.id ?? '?'}`}${labels}`;
  const values = { ...variables, ...scope.values };
  const checks: QueryCheck[] = [];
  for (const target of panel.targets ?? []) {
    if (target.hide === true || !target.query?.trim() || !isInfluxTarget(target, panel)) continue;
    checks.push(await runTarget(target, target.query, panel, title, values, query, settings));
  }
  return checks;
}

async function runTarget(
  target: GrafanaTarget,
  text: string,
  panel: GrafanaPanel,
  title: string,
  variables: Record<string, VariableValue>,
  query: QueryFn,
  settings: Settings,
): Promise<QueryCheck> {
  const check: QueryCheck = { kind: 'panel', title, refId: target.refId, query: text, series: [] };
  try {
    check.query = interpolateInfluxQL(text, panelContext(panel, variables, settings));
    if (target.rawQuery !== true) {
      check.error = RAW_QUERY_OFF;
      return check;
    }
    check.series = await query(check.query);
  } catch (error) {
    check.error = errorMessage(error);
  }
  return check;
}

/** The range and interval Grafana's PanelQueryRunner uses for a panel. */
function panelContext(
  panel: GrafanaPanel,
  variables: Record<string, VariableValue>,
  settings: Settings,
): InterpolationContext {
  const plain: InterpolationContext = {
    range: settings.range,
    interval: '',
    intervalMs: 0,
    variables,
  };
  const expand = (text: string): string => interpolateInfluxQL(text, plain);
  const range = panelRange(panel, settings.range, expand);
  const maxDataPoints =
    panel.maxDataPoints && panel.maxDataPoints > 0 ? panel.maxDataPoints : settings.width;
  const minInterval = panel.interval ? expand(panel.interval) : settings.minInterval;
  return contextFor(range, maxDataPoints, minInterval, variables);
}

/** Applies a panel's relative time (`timeFrom`, ending at `range.to`) and `timeShift`. */
function panelRange(
  panel: GrafanaPanel,
  range: TimeRange,
  expand: (text: string) => string,
): TimeRange {
  let { from, to } = range;
  if (panel.timeFrom) from = to - relativeDuration(expand(panel.timeFrom), 'timeFrom');
  if (panel.timeShift) {
    const shift = relativeDuration(expand(panel.timeShift), 'timeShift');
    from -= shift;
    to -= shift;
  }
  return { from, to };
}

function relativeDuration(text: string, option: string): number {
  const amount = /^(?:now-)?(\d+(?:ms|[smhdwMy]))$/.exec(text.trim())?.[1];
  if (amount === undefined) throw new Error(`unsupported panel ${option} '${text}'`);
  return parseDuration(amount);
}
