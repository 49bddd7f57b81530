// How Grafana 11 (InfluxDB data source, InfluxQL, server access) turns the raw query text of a
// panel target or a query variable into the InfluxQL it finally sends. Two stages take part:
//
// 1. The browser (TemplateSrv + the data source's `interpolateQueryExpr` formatter) replaces
//    dashboard variables and the built-ins `$__from`, `$__to` and `$__range*`. It leaves
//    `$__interval`/`$__interval_ms` in place for the backend and does not know `$timeFilter`.
// 2. The Go backend (pkg/tsdb/influxdb/models/query.go `Build`) replaces, by plain substring
//    replacement and in this order, `$timeFilter`, `$interval`, `$__interval_ms`, `$__interval`.
//
// This module re-implements both stages without dependencies.

/** An absolute time range in epoch milliseconds. */
export interface TimeRange {
  from: number;
  to: number;
}

/** The interval Grafana derives for a query: text for `$__interval`, ms for `$__interval_ms`. */
export interface IntervalValues {
  interval: string;
  intervalMs: number;
}

/** The current selection of one dashboard variable, as TemplateSrv sees it. */
export interface VariableValue {
  /**
   * The selected value(s). When the All option is selected this must be the list of all the
   * variable's values (that is what Grafana interpolates when there is no custom `allValue`).
   */
  value: string | string[];
  multi: boolean;
  includeAll: boolean;
  /** The variable's "Custom all value", inserted unformatted when All is selected. */
  allValue?: string | null;
  /** True when the All option is selected. */
  isAll?: boolean;
}

/** Everything a query's interpolation depends on. */
export interface InterpolationContext {
  range: TimeRange;
  /** `$__interval`, e.g. '10s' (see {@link calculateInterval}). */
  interval: string;
  /** `$__interval_ms`. */
  intervalMs: number;
  /** Dashboard variables by name (without the `$`). */
  variables: Record<string, VariableValue>;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const YEAR = 365 * DAY;

/** Milliseconds per unit of Grafana's duration syntax (`M` is a 30-day month). */
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: SECOND,
  m: MINUTE,
  h: HOUR,
  d: DAY,
  w: WEEK,
  M: 30 * DAY,
  y: YEAR,
};

/**
 * Parses a Grafana duration ('500ms', '10s', '5m', '1h', '1d', '1w', '1M', '1y') into
 * milliseconds. A unit-less number counts as seconds, like Grafana's `describeInterval`; the
 * legacy '>' prefix of panel min intervals ('>10s') is accepted.
 *
 * @throws Error when the text is not a duration.
 */
export function parseDuration(s: string): number {
  const text = s.trim().replace(/^>\s*/, '');
  const match = /^(\d+(?:\.\d+)?)(ms|[smhdwMy])?$/.exec(text);
  const count = match?.[1];
  if (count === undefined) {
    throw new Error(
      `Invalid duration '${s}': expected a number with one of ms, s, m, h, d, w, M, y`,
    );
  }
  return Number(count) * (UNIT_MS[match?.[2] ?? 's'] ?? SECOND);
}

/** Grafana's "nice interval" ladder (@grafana/data rangeutil `roundInterval`): [below, use]. */
const ROUNDING_LADDER: readonly (readonly [number, number])[] = [
  [10, 1],
  [15, 10],
  [35, 20],
  [75, 50],
  [150, 100],
  [350, 200],
  [750, 500],
  [1.5 * SECOND, SECOND],
  [3.5 * SECOND, 2 * SECOND],
  [7.5 * SECOND, 5 * SECOND],
  [12.5 * SECOND, 10 * SECOND],
  [17.5 * SECOND, 15 * SECOND],
  [25 * SECOND, 20 * SECOND],
  [45 * SECOND, 30 * SECOND],
  [1.5 * MINUTE, MINUTE],
  [3.5 * MINUTE, 2 * MINUTE],
  [7.5 * MINUTE, 5 * MINUTE],
  [12.5 * MINUTE, 10 * MINUTE],
  [17.5 * MINUTE, 15 * MINUTE],
  [25 * MINUTE, 20 * MINUTE],
  [45 * MINUTE, 30 * MINUTE],
  [1.5 * HOUR, HOUR],
  [2.5 * HOUR, 2 * HOUR],
  [4.5 * HOUR, 3 * HOUR],
  [9 * HOUR, 6 * HOUR],
  [DAY, 12 * HOUR],
  [WEEK, DAY],
  [3 * WEEK, WEEK],
  [6 * WEEK, 30 * DAY],
];

/** Rounds a raw interval (ms) to the next "nice" step of Grafana's ladder (strict `<` bounds). */
export function roundInterval(ms: number): number {
  for (const [below, rounded] of ROUNDING_LADDER) {
    if (ms < below) return rounded;
  }
  return YEAR;
}

/**
 * Formats milliseconds the way `$__interval` is rendered (Go `gtime.FormatInterval`, the same as
 * `secondsToHms` in the browser): the largest unit with a non-zero whole count, truncating —
 * 90 s is '1m', a week is '7d' (there is no 'w'), 30 days '30d'. Below 1 ms it is '1ms'.
 */
export function formatInterval(ms: number): string {
  const units: readonly (readonly [string, number])[] = [
    ['y', YEAR],
    ['d', DAY],
    ['h', HOUR],
    ['m', MINUTE],
    ['s', SECOND],
    ['ms', 1],
  ];
  for (const [unit, size] of units) {
    const count = Math.floor(ms / size);
    if (count > 0) return `${count}${unit}`;
  }
  return '1ms';
}

/**
 * Grafana's `rangeutil.calculateInterval`: (to - from) / maxDataPoints rounded with
 * {@link roundInterval}, then raised to `minInterval` when below it (the low limit itself is not
 * rounded, so a '7s' minimum gives '7s').
 *
 * @param maxDataPoints the panel's max data points (Grafana defaults it to the panel's width)
 * @param minInterval the panel's "Min interval", else the data source's `timeInterval`
 */
export function calculateInterval(
  range: TimeRange,
  maxDataPoints: number,
  minInterval?: string,
): IntervalValues {
  const lowLimitMs = minInterval ? parseDuration(minInterval) : 1;
  const points = maxDataPoints > 0 ? maxDataPoints : 1;
  const intervalMs = Math.max(roundInterval((range.to - range.from) / points), lowLimitMs);
  return { interval: formatInterval(intervalMs), intervalMs };
}

/**
 * Escapes regular-expression characters like Grafana's `escapeRegex` (@grafana/data), which
 * also escapes `/` because InfluxQL delimits regexes with it.
 */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/** TemplateSrv's variable syntax: `$name`, `[[name]]`, `[[name:fmt]]`, `${name}`, `${name:fmt}`. */
const VARIABLE_PATTERN =
  /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

interface VariableToken {
  name: string;
  format?: string;
}

function toToken(match: RegExpExecArray): VariableToken | undefined {
  const name = match[1] ?? match[2] ?? match[4];
  if (name === undefined) return undefined;
  const format = match[3] ?? match[6];
  return format === undefined ? { name } : { name, format };
}

/** Replaces each variable token for which `resolve` returns a string; others stay untouched. */
function replaceTokens(
  text: string,
  resolve: (token: VariableToken) => string | undefined,
): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(VARIABLE_PATTERN)) {
    const token = toToken(match);
    const replacement = token ? resolve(token) : undefined;
    out += text.slice(last, match.index) + (replacement ?? match[0]);
    last = match.index + match[0].length;
  }
  return out + text.slice(last);
}

/**
 * The variable names still referenced in `query` (`$name`, `${name}`, `[[name]]`), in order of
 * first appearance — after {@link interpolateInfluxQL} these are variables Grafana left as is.
 */
export function unresolvedVariables(query: string): string[] {
  const names = new Set<string>();
  for (const match of query.matchAll(VARIABLE_PATTERN)) {
    const token = toToken(match);
    if (token) names.add(token.name);
  }
  return [...names];
}

/**
 * Regex literals after `=~`/`!~` in InfluxQL (the pattern the data source uses since Grafana
 * 11.4.3/11.5.3 to decide whether a single-value variable sits inside a regex).
 */
const REGEX_LITERAL = /[=!]~\s*\/((?![*+?])(?:[^\r\n[/\\]|\\.|\[(?:[^\r\n\]\\]|\\.)*\])+)\//g;

function usedInRegexLiteral(query: string, name: string): boolean {
  for (const match of query.matchAll(REGEX_LITERAL)) {
    if (match[1]?.includes(`$${name}`)) return true;
  }
  return false;
}

function regexAlternation(values: readonly string[]): string {
  return `(${values.map(escapeRegex).join('|')})`;
}

/**
 * The InfluxDB data source's default formatter (`interpolateQueryExpr`, Grafana 11):
 * - a single value that starts like a number (`parseFloat` is not NaN) is inserted as is;
 * - a multi-value variable is regex-escaped; a list becomes `(a|b\.c)` (even with one item);
 * - any other variable is inserted as is, unless the query uses it as `$name` inside a
 *   `=~ /…/` or `!~ /…/` literal, where it is escaped like a multi-value one. `${name}` and
 *   `[[name]]` inside a regex are not detected by Grafana and stay unescaped.
 */
function influxDefaultFormat(name: string, variable: VariableValue, query: string): string {
  const { value } = variable;
  if (typeof value === 'string' && !Number.isNaN(Number.parseFloat(value))) return value;
  if (variable.multi || usedInRegexLiteral(query, name)) {
    return typeof value === 'string' ? escapeRegex(value) : regexAlternation(value);
  }
  return String(value);
}

function quoteEach(values: readonly string[], quote: string): string {
  return values.map((v) => `${quote}${v.replaceAll(quote, `\\${quote}`)}${quote}`).join(',');
}

/** Grafana's named formats (`${name:format}`); any other format is rendered like `glob`. */
function applyFormat(format: string, variable: VariableValue): string {
  const { value } = variable;
  const values = typeof value === 'string' ? [value] : value;
  switch (format.split(':')[0]) {
    case 'raw':
    case 'csv':
      return values.join(',');
    case 'regex':
      return typeof value === 'string' || values.length === 1
        ? escapeRegex(values[0] ?? '')
        : regexAlternation(values);
    case 'pipe':
      return values.join('|');
    case 'singlequote':
      return quoteEach(values, "'");
    case 'doublequote':
      return quoteEach(values, '"');
    case 'sqlstring':
      return values.map((v) => `'${v.replaceAll("'", "''")}'`).join(',');
    case 'json':
      return JSON.stringify(value);
    case 'text':
      return variable.isAll ? 'All' : values.join(' + ');
    case 'percentencode':
      return encodeURIComponent(typeof value === 'string' ? value : `{${values.join(',')}}`);
    default:
      return values.length > 1 ? `{${values.join(',')}}` : values.join(',');
  }
}

function formatUserVariable(
  name: string,
  variable: VariableValue,
  format: string | undefined,
  query: string,
): string {
  // A custom all value is inserted unformatted (except for the text/percentencode formats).
  if (variable.isAll && variable.allValue && format !== 'text' && format !== 'percentencode') {
    return variable.allValue;
  }
  return format === undefined
    ? influxDefaultFormat(name, variable, query)
    : applyFormat(format, variable);
}

/** `$__from`/`$__to`, optionally `:date`, `:date:iso` or `:date:seconds`; else left untouched. */
function formatTimestamp(ms: number, format: string | undefined): string | undefined {
  const [id, ...args] = (format ?? '').split(':');
  if (id !== 'date') return String(ms);
  const dateFormat = args.join(':');
  if (dateFormat === '' || dateFormat === 'iso') return new Date(ms).toISOString();
  if (dateFormat === 'seconds') return String(Math.floor(ms / 1000));
  return undefined;
}

function resolveBuiltin(token: VariableToken, ctx: InterpolationContext): string | undefined {
  const rangeMs = ctx.range.to - ctx.range.from;
  switch (token.name) {
    // Grafana hands these to the backend unchanged (see applyBackendMacros).
    case '__interval':
      return '$__interval';
    case '__interval_ms':
      return '$__interval_ms';
    case '__from':
      return formatTimestamp(ctx.range.from, token.format);
    case '__to':
      return formatTimestamp(ctx.range.to, token.format);
    case '__range_ms':
      return String(rangeMs);
    case '__range_s':
      return String(Math.round(rangeMs / 1000));
    case '__range':
      return `${Math.round(rangeMs / 1000)}s`;
    default:
      return undefined;
  }
}

/** Stage 2: the Go backend's plain substring replacements, in its order. */
function applyBackendMacros(query: string, ctx: InterpolationContext): string {
  const timeFilter = `time >= ${Math.trunc(ctx.range.from)}ms and time <= ${Math.trunc(ctx.range.to)}ms`;
  const intervalMs = String(Math.max(1, Math.trunc(ctx.intervalMs)));
  return query
    .replaceAll('$timeFilter', () => timeFilter)
    .replaceAll('$interval', () => ctx.interval)
    .replaceAll('$__interval_ms', () => intervalMs)
    .replaceAll('$__interval', () => ctx.interval);
}

/**
 * Interpolates a raw InfluxQL query exactly as Grafana 11 does before sending it to InfluxDB:
 * - `$timeFilter` → `time >= <from>ms and time <= <to>ms`;
 * - `$__interval`, `$interval` (unless a variable is called `interval`) → `ctx.interval`;
 *   `$__interval_ms` → `ctx.intervalMs`;
 * - `$__from`/`$__to` (also `${__from:date:seconds}`, `${__from:date:iso}`), `$__range_ms`,
 *   `$__range_s`, `$__range` (whole seconds + 's');
 * - dashboard variables as `$name`, `${name}`, `[[name]]` with Grafana's greedy name matching
 *   (`$site_id` never resolves `site`), `${name:format}` with the formats raw, regex, pipe, csv,
 *   singlequote, doublequote, sqlstring, json, text, percentencode, glob (also the fallback);
 *   without a format the InfluxDB data source's formatter applies (see the module notes) and an
 *   All selection with a custom all value inserts that value unformatted.
 *
 * Unknown variables are left untouched, as Grafana does; see {@link unresolvedVariables}.
 */
export function interpolateInfluxQL(query: string, ctx: InterpolationContext): string {
  const browserSide = replaceTokens(query, (token) => {
    const builtin = resolveBuiltin(token, ctx);
    if (builtin !== undefined) return builtin;
    const variable = ctx.variables[token.name];
    return variable && formatUserVariable(token.name, variable, token.format, query);
  });
  return applyBackendMacros(browserSide, ctx);
}
