import { describe, expect, it } from 'vitest';
import {
  failures,
  hasData,
  runDashboard,
  variableValuesFromSeries,
  type GrafanaDashboard,
  type GrafanaPanel,
  type GrafanaVariable,
  type InfluxSeries,
  type QueryFn,
} from './run-dashboard.js';

const HOUR = 3_600_000;
const FROM = 1_700_000_000_000;
const TO = FROM + HOUR;
const range = { from: FROM, to: TO };
const TIME_FILTER = `time >= ${FROM}ms and time <= ${TO}ms`;

/** An in-memory InfluxDB: the first route whose pattern matches answers; default no series. */
function fakeInflux(routes: [RegExp, InfluxSeries[] | Error][] = []) {
  const queries: string[] = [];
  const query: QueryFn = (influxql) => {
    queries.push(influxql);
    const result = routes.find(([pattern]) => pattern.test(influxql))?.[1] ?? [];
    return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
  };
  return { query, queries };
}

function tagValues(key: string, ...values: string[]): InfluxSeries[] {
  return [{ name: 'oee', columns: ['key', 'value'], values: values.map((v) => [key, v]) }];
}

function points(...values: (number | null)[]): InfluxSeries[] {
  return [{ name: 'm', columns: ['time', 'mean'], values: values.map((v, i) => [FROM + i, v]) }];
}

const siteVariable: GrafanaVariable = {
  name: 'site',
  type: 'query',
  query: { query: 'SHOW TAG VALUES FROM "oee" WITH KEY = "site"' },
  multi: true,
  includeAll: true,
  allValue: '.*',
  current: { text: ['All'], value: ['$__all'] },
  sort: 1,
  refresh: 1,
};

const lineVariable: GrafanaVariable = {
  name: 'line',
  type: 'query',
  query: 'SHOW TAG VALUES FROM "oee" WITH KEY = "line" WHERE "site" =~ /^$site$/',
  multi: true,
  current: {},
};

const dashboard: GrafanaDashboard = {
  title: 'Science City',
  uid: 'science-city',
  templating: {
    list: [
      siteVariable,
      lineVariable,
      { name: 'shift', type: 'custom', query: 'Early : early, Late : late' },
      { name: 'park', type: 'constant', query: 'science-city' },
      {
        name: 'bucket',
        type: 'interval',
        query: '1m,10m,1h',
        auto: true,
        current: { value: '$__auto' },
      },
      { name: 'ds', type: 'datasource', query: 'influxdb' },
    ],
  },
  panels: [
    {
      type: 'stat',
      title: 'OEE per line',
      targets: [
        {
          refId: 'A',
          rawQuery: true,
          query:
            `SELECT mean("oee") FROM "oee" WHERE "park" = '$park' AND "site" =~ /^$site$/ ` +
            'AND "line" =~ /^$line$/ AND $timeFilter GROUP BY time($__interval)',
        },
        { refId: 'B', rawQuery: true, hide: true, query: 'SELECT 1' },
        { refId: 'C', rawQuery: true },
      ],
    },
    {
      type: 'row',
      title: 'Machines',
      collapsed: true,
      panels: [
        {
          type: 'timeseries',
          title: 'Spindle load',
          interval: '1m',
          maxDataPoints: 100,
          targets: [
            {
              refId: 'A',
              rawQuery: true,
              query: `SELECT mean("load") FROM "cnc" WHERE "shift" = '$shift' AND $timeFilter GROUP BY time($__interval)`,
            },
          ],
        },
      ],
    },
    { type: 'row', title: 'Energy', collapsed: false, panels: [] },
    { type: 'text', title: 'Notes' },
    {
      type: 'timeseries',
      title: 'Power',
      targets: [
        {
          refId: 'A',
          rawQuery: true,
          query: 'SELECT mean("kw") FROM "power" WHERE $timeFilter GROUP BY time($bucket)',
        },
      ],
    },
  ],
};

const healthyInflux: [RegExp, InfluxSeries[] | Error][] = [
  [/KEY = "site"/, tagValues('site', 'north', 'lab.2')],
  [/KEY = "line"/, tagValues('line', 'l1', 'l2')],
  [/^SELECT/, points(1, 2)],
];

describe('runDashboard', () => {
  it('resolves variables in order and sends the queries Grafana would send', async () => {
    const influx = fakeInflux(healthyInflux);

    const run = await runDashboard(dashboard, influx.query, { range });

    expect(influx.queries).toEqual([
      'SHOW TAG VALUES FROM "oee" WITH KEY = "site"',
      'SHOW TAG VALUES FROM "oee" WITH KEY = "line" WHERE "site" =~ /^.*$/',
      `SELECT mean("oee") FROM "oee" WHERE "park" = 'science-city' AND "site" =~ /^.*$/ ` +
        `AND "line" =~ /^(l1)$/ AND ${TIME_FILTER} GROUP BY time(10s)`,
      // maxDataPoints 100 → 36 s → 30s, raised to the panel's 1m minimum.
      `SELECT mean("load") FROM "cnc" WHERE "shift" = 'early' AND ${TIME_FILTER} GROUP BY time(1m)`,
      // auto interval: 1 h / 30 steps = 2 min.
      `SELECT mean("kw") FROM "power" WHERE ${TIME_FILTER} GROUP BY time(2m)`,
    ]);
    expect(run.dashboard).toBe('Science City');
    expect(run.checks.map((c) => [c.kind, c.title, c.refId, c.error])).toEqual([
      ['variable', '$site', undefined, undefined],
      ['variable', '$line', undefined, undefined],
      ['panel', 'OEE per line', 'A', undefined],
      ['panel', 'Spindle load', 'A', undefined],
      ['panel', 'Power', 'A', undefined],
    ]);
    expect(run.variables).toEqual({
      site: {
        value: ['lab.2', 'north'],
        multi: true,
        includeAll: true,
        allValue: '.*',
        isAll: true,
      },
      line: { value: ['l1'], multi: true, includeAll: false, allValue: null, isAll: false },
      shift: { value: 'early', multi: false, includeAll: false, allValue: null, isAll: false },
      park: { value: 'science-city', multi: false, includeAll: false },
      bucket: { value: '2m', multi: false, includeAll: false },
    });
    expect(failures(run)).toEqual([]);
  });

  it('lets pick choose the selections', async () => {
    const influx = fakeInflux(healthyInflux);

    const run = await runDashboard(dashboard, influx.query, {
      range,
      pick: (name, values) => (name === 'site' ? ['north'] : name === 'line' ? 'all' : values[1]!),
    });

    expect(influx.queries[1]).toBe(
      'SHOW TAG VALUES FROM "oee" WITH KEY = "line" WHERE "site" =~ /^(north)$/',
    );
    expect(influx.queries[2]).toContain(`"site" =~ /^(north)$/ AND "line" =~ /^(l1|l2)$/`);
    expect(influx.queries[3]).toContain(`"shift" = 'late'`);
    expect(influx.queries[4]).toContain('GROUP BY time(1m)');
    expect(run.variables['line']?.isAll).toBe(true);
  });

  it('keeps a stored current value that is still offered', async () => {
    const influx = fakeInflux(healthyInflux);
    const stored: GrafanaDashboard = {
      ...dashboard,
      templating: { list: [{ ...siteVariable, current: { value: ['north', 'gone'] } }] },
    };

    const run = await runDashboard(stored, influx.query, { range });

    expect(run.variables['site']).toMatchObject({ value: ['north'], isAll: false });
  });

  it('records a failing variable, empties it and keeps running the dependent queries', async () => {
    const influx = fakeInflux([
      [/KEY = "site"/, new Error('database not found: telemetry')],
      ...healthyInflux,
    ]);

    const run = await runDashboard(dashboard, influx.query, { range });

    expect(run.checks[0]).toMatchObject({
      kind: 'variable',
      title: '$site',
      error: 'database not found: telemetry',
    });
    expect(run.variables['site']).toMatchObject({ value: [], isAll: false });
    expect(influx.queries[1]).toBe(
      'SHOW TAG VALUES FROM "oee" WITH KEY = "line" WHERE "site" =~ /^()$/',
    );
    expect(failures(run)).toEqual([
      'Science City / $site: database not found: telemetry\n' +
        '  SHOW TAG VALUES FROM "oee" WITH KEY = "site"',
    ]);
  });

  it('fails a variable whose query returns no values', async () => {
    const influx = fakeInflux([[/KEY = "line"/, []], ...healthyInflux]);

    const run = await runDashboard(dashboard, influx.query, { range });

    expect(run.checks[1]).toMatchObject({ title: '$line', error: 'no values', series: [] });
    expect(run.variables['line']?.value).toEqual([]);
  });

  it('applies a variable regex and sort order', async () => {
    const influx = fakeInflux([[/KEY = "line"/, tagValues('line', 'line-10', 'x', 'line-9')]]);
    const list: GrafanaVariable[] = [{ ...lineVariable, regex: '/line-(.*)/', sort: 3 }];

    const run = await runDashboard({ title: 'D', templating: { list } }, influx.query, {
      range,
    });

    expect(run.variables['line']?.value).toEqual(['9']);
    expect(run.checks[0]?.error).toBeUndefined();
  });

  it('flattens expanded, collapsed and nested rows and repeats panels per value', async () => {
    const influx = fakeInflux(healthyInflux);
    const panel = (title: string, extra: Partial<GrafanaPanel> = {}): GrafanaPanel => ({
      type: 'timeseries',
      title,
      targets: [
        { refId: 'A', rawQuery: true, query: `SELECT "${title}" FROM m WHERE "s" =~ /^$site$/` },
      ],
      ...extra,
    });
    const layout: GrafanaDashboard = {
      title: 'Layout',
      templating: { list: [siteVariable] },
      panels: [
        panel('top'),
        { type: 'row', title: 'Open', collapsed: false, panels: [] },
        panel('under open'),
        {
          type: 'row',
          title: 'Closed',
          collapsed: true,
          panels: [
            panel('in closed'),
            { type: 'row', title: 'Inner', collapsed: true, panels: [panel('nested')] },
          ],
        },
        {
          type: 'row',
          title: 'Per site',
          collapsed: true,
          repeat: 'site',
          panels: [panel('row rep')],
        },
        panel('panel rep', { repeat: 'site' }),
      ],
    };

    const run = await runDashboard(layout, influx.query, { range });

    expect(run.checks.filter((c) => c.kind === 'panel').map((c) => [c.title, c.query])).toEqual([
      ['top', 'SELECT "top" FROM m WHERE "s" =~ /^.*$/'],
      ['under open', 'SELECT "under open" FROM m WHERE "s" =~ /^.*$/'],
      ['in closed', 'SELECT "in closed" FROM m WHERE "s" =~ /^.*$/'],
      ['nested', 'SELECT "nested" FROM m WHERE "s" =~ /^.*$/'],
      ['row rep (site=lab.2)', 'SELECT "row rep" FROM m WHERE "s" =~ /^lab\\.2$/'],
      ['row rep (site=north)', 'SELECT "row rep" FROM m WHERE "s" =~ /^north$/'],
      ['panel rep (site=lab.2)', 'SELECT "panel rep" FROM m WHERE "s" =~ /^lab\\.2$/'],
      ['panel rep (site=north)', 'SELECT "panel rep" FROM m WHERE "s" =~ /^north$/'],
    ]);
  });

  it('applies panel time overrides to $timeFilter and the interval', async () => {
    const influx = fakeInflux();
    const shifted: GrafanaDashboard = {
      title: 'T',
      panels: [
        {
          type: 'timeseries',
          title: 'Last day, a week ago',
          timeFrom: '24h',
          timeShift: '7d',
          targets: [
            {
              refId: 'A',
              rawQuery: true,
              query: 'SELECT 1 WHERE $timeFilter GROUP BY time($__interval)',
            },
          ],
        },
      ],
    };

    await runDashboard(shifted, influx.query, { range });

    const week = 7 * 24 * HOUR;
    expect(influx.queries).toEqual([
      `SELECT 1 WHERE time >= ${TO - 24 * HOUR - week}ms and time <= ${TO - week}ms GROUP BY time(1m)`,
    ]);
  });

  it('skips other data sources and flags targets whose raw query Grafana would not send', async () => {
    const influx = fakeInflux(healthyInflux);
    const mixed: GrafanaDashboard = {
      title: 'Mixed',
      panels: [
        {
          type: 'timeseries',
          title: 'Mixed',
          datasource: { type: 'datasource', uid: '-- Mixed --' },
          targets: [
            { refId: 'A', query: 'SELECT 1 FROM m WHERE $timeFilter' },
            { refId: 'B', query: 'up', datasource: { type: 'prometheus', uid: 'p' } },
            { refId: 'C', rawQuery: true, query: 'SELECT 2 FROM m' },
          ],
        },
      ],
    };

    const run = await runDashboard(mixed, influx.query, { range });

    expect(influx.queries).toEqual(['SELECT 2 FROM m']);
    expect(run.checks.map((c) => [c.refId, c.query, c.error])).toEqual([
      ['A', `SELECT 1 FROM m WHERE ${TIME_FILTER}`, expect.stringMatching(/^rawQuery is not true/)],
      ['C', 'SELECT 2 FROM m', undefined],
    ]);
  });

  it('records a failing panel query and panel option errors', async () => {
    const influx = fakeInflux([[/boom/, new Error('error parsing query: found boom')]]);
    const broken: GrafanaDashboard = {
      title: 'Broken',
      panels: [
        { title: 'Bad', targets: [{ refId: 'A', rawQuery: true, query: 'SELECT boom' }] },
        {
          title: 'Bad range',
          timeFrom: 'now/d',
          targets: [{ refId: 'B', rawQuery: true, query: 'SELECT 1' }],
        },
      ],
    };

    const run = await runDashboard(broken, influx.query, { range });

    expect(run.checks.map((c) => c.error)).toEqual([
      'error parsing query: found boom',
      "unsupported panel timeFrom 'now/d'",
    ]);
    expect(influx.queries).toEqual(['SELECT boom']);
  });

  it("runs enabled InfluxDB annotation queries over the dashboard's range, not Grafana's built-in one", async () => {
    const influx = fakeInflux();
    const annotated: GrafanaDashboard = {
      title: 'Annotated',
      annotations: {
        list: [
          {
            name: 'Annotations & Alerts',
            builtIn: 1,
            datasource: { type: 'grafana', uid: '-- Grafana --' },
          },
          {
            name: 'Alarms raised',
            enable: true,
            datasource: { type: 'influxdb', uid: 'i' },
            target: {
              refId: 'Anno',
              rawQuery: true,
              query: 'SELECT "id" FROM "alarm_event" WHERE $timeFilter',
            },
          },
          {
            name: 'Off',
            enable: false,
            datasource: { type: 'influxdb', uid: 'i' },
            target: { refId: 'Anno', rawQuery: true, query: 'SELECT 3' },
          },
        ],
      },
    };

    const run = await runDashboard(annotated, influx.query, { range });

    expect(influx.queries).toEqual([`SELECT "id" FROM "alarm_event" WHERE ${TIME_FILTER}`]);
    expect(run.checks.map((c) => [c.kind, c.title, c.refId])).toEqual([
      ['annotation', 'annotation Alarms raised', 'Anno'],
    ]);
    expect(failures(run)).toHaveLength(1); // no data
  });
});

describe('failures', () => {
  const run = {
    dashboard: 'Science City',
    variables: {},
    checks: [
      {
        kind: 'panel' as const,
        title: 'OEE per line',
        refId: 'A',
        query: 'SELECT a',
        series: points(1),
      },
      {
        kind: 'panel' as const,
        title: 'Empty',
        refId: 'B',
        query: 'SELECT b',
        series: points(null),
      },
      {
        kind: 'panel' as const,
        title: 'Broken',
        refId: 'C',
        query: 'SELECT c',
        series: [],
        error: 'boom',
      },
      { kind: 'variable' as const, title: '$site', query: 'SHOW TAG VALUES', series: [] },
    ],
  };

  it('lists errors and checks without data', () => {
    expect(failures(run)).toEqual([
      'Science City / Empty [B]: no data\n  SELECT b',
      'Science City / Broken [C]: boom\n  SELECT c',
      'Science City / $site: no data\n  SHOW TAG VALUES',
    ]);
  });

  it('lists only errors when data is not required', () => {
    expect(failures(run, false)).toEqual(['Science City / Broken [C]: boom\n  SELECT c']);
  });
});

describe('hasData', () => {
  it('needs a non-null value outside the time column', () => {
    expect(hasData([])).toBe(false);
    expect(hasData(points(null, null))).toBe(false);
    expect(hasData(points(null, 0))).toBe(true);
    expect(hasData([{ name: 'measurements', columns: ['name'], values: [['oee']] }])).toBe(true);
  });
});

describe('variableValuesFromSeries', () => {
  it('takes the value column of SHOW TAG VALUES, deduplicated across series', () => {
    const series = [...tagValues('site', 'a', 'b'), ...tagValues('site', 'b', 'c')];
    expect(variableValuesFromSeries('show tag values with key = "site"', series)).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('takes the first column of other SHOW statements', () => {
    const fieldKeys: InfluxSeries[] = [
      { name: 'oee', columns: ['fieldKey', 'fieldType'], values: [['oee', 'float']] },
    ];
    expect(variableValuesFromSeries('SHOW FIELD KEYS FROM "oee"', fieldKeys)).toEqual(['oee']);
    const cardinality: InfluxSeries[] = [{ name: 'oee', columns: ['count'], values: [[3]] }];
    expect(
      variableValuesFromSeries('SHOW TAG VALUES CARDINALITY WITH KEY = "x"', cardinality),
    ).toEqual(['3']);
  });

  it('takes every non-time column of a SELECT, column by column, without nulls', () => {
    const series: InfluxSeries[] = [
      {
        name: 'm',
        columns: ['time', 'a', 'b'],
        values: [
          [1, 'x', 2],
          [2, null, true],
        ],
      },
    ];
    expect(variableValuesFromSeries('SELECT a, b FROM m', series)).toEqual(['x', '2', 'true']);
  });
});
