import { describe, expect, it } from 'vitest';
import {
  calculateInterval,
  escapeRegex,
  formatInterval,
  interpolateInfluxQL,
  parseDuration,
  roundInterval,
  unresolvedVariables,
  type InterpolationContext,
  type VariableValue,
} from './interpolate.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const FROM = 1_700_000_000_000;
const range = { from: FROM, to: FROM + HOUR };

function ctx(variables: Record<string, VariableValue> = {}): InterpolationContext {
  return { range, interval: '10s', intervalMs: 10_000, variables };
}

function single(value: string): VariableValue {
  return { value, multi: false, includeAll: false };
}

function multi(value: string | string[], extra: Partial<VariableValue> = {}): VariableValue {
  return { value, multi: true, includeAll: true, ...extra };
}

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10 * SECOND],
    ['5m', 5 * MINUTE],
    ['1h', HOUR],
    ['1d', DAY],
    ['1w', 7 * DAY],
    ['1M', 30 * DAY],
    ['1y', 365 * DAY],
    ['30', 30 * SECOND],
    ['>10s', 10 * SECOND],
    [' 2m ', 2 * MINUTE],
  ])('parses %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'abc', '10x', '-5s', 's'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/Invalid duration/);
  });
});

describe('roundInterval', () => {
  it.each([
    [0.5, 1],
    [9, 1],
    [10, 10],
    [14.9, 10],
    [15, 20],
    [3_600, 5 * SECOND],
    [12_499, 10 * SECOND],
    [12_500, 15 * SECOND],
    [44_999, 30 * SECOND],
    [45_000, MINUTE],
    [86_400, MINUTE],
    [604_800, 10 * MINUTE],
    [5 * HOUR, 6 * HOUR],
    [2 * DAY, DAY],
    [10 * DAY, 7 * DAY],
    [30 * DAY, 30 * DAY],
    [60 * DAY, 365 * DAY],
  ])('rounds %d ms to %d ms', (raw, rounded) => {
    expect(roundInterval(raw)).toBe(rounded);
  });
});

describe('formatInterval', () => {
  it.each([
    [1, '1ms'],
    [200, '200ms'],
    [10 * SECOND, '10s'],
    [90 * SECOND, '1m'],
    [MINUTE, '1m'],
    [HOUR, '1h'],
    [DAY, '1d'],
    [7 * DAY, '7d'],
    [30 * DAY, '30d'],
    [365 * DAY, '1y'],
    [0, '1ms'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatInterval(ms)).toBe(text);
  });
});

describe('calculateInterval', () => {
  it('raises a 1 h range over 1000 points (5s) to the 10s minimum', () => {
    expect(calculateInterval(range, 1000, '10s')).toEqual({ interval: '10s', intervalMs: 10_000 });
  });

  it('rounds a 7-day range over 1000 points to 10m', () => {
    const week = { from: FROM, to: FROM + 7 * DAY };
    expect(calculateInterval(week, 1000, '10s')).toEqual({ interval: '10m', intervalMs: 600_000 });
  });

  it('rounds 24 h over 1000 points (86.4 s) down to 1m', () => {
    const day = { from: FROM, to: FROM + DAY };
    expect(calculateInterval(day, 1000, '10s').interval).toBe('1m');
  });

  it('uses the rounded raw interval when there is no minimum', () => {
    expect(calculateInterval(range, 1000)).toEqual({ interval: '5s', intervalMs: 5000 });
    expect(calculateInterval({ from: 0, to: 1000 }, 1000)).toEqual({
      interval: '1ms',
      intervalMs: 1,
    });
  });

  it('does not round the minimum itself, like Grafana', () => {
    expect(calculateInterval(range, 1000, '7s')).toEqual({ interval: '7s', intervalMs: 7000 });
  });

  it('honours fewer max data points', () => {
    expect(calculateInterval(range, 100, '10s').interval).toBe('30s');
  });
});

describe('escapeRegex', () => {
  it('escapes regex characters and the InfluxQL delimiter /', () => {
    expect(escapeRegex('a.b*c/d(e)|f[g]{h}^$+?\\')).toBe(
      'a\\.b\\*c\\/d\\(e\\)\\|f\\[g\\]\\{h\\}\\^\\$\\+\\?\\\\',
    );
  });
});

describe('interpolateInfluxQL: time and interval', () => {
  it('replaces $timeFilter with an epoch-ms range', () => {
    expect(interpolateInfluxQL('SELECT 1 FROM m WHERE $timeFilter', ctx())).toBe(
      `SELECT 1 FROM m WHERE time >= ${FROM}ms and time <= ${FROM + HOUR}ms`,
    );
  });

  it('keeps $__interval_ms apart from $__interval, in every syntax', () => {
    const query = 'time($__interval) $__interval_ms ${__interval} [[__interval]] ${__interval_ms}';
    expect(interpolateInfluxQL(query, ctx())).toBe('time(10s) 10000 10s 10s 10000');
  });

  it('supports the legacy $interval unless a variable takes the name', () => {
    expect(interpolateInfluxQL('GROUP BY time($interval)', ctx())).toBe('GROUP BY time(10s)');
    const withVariable = ctx({ interval: single('1h') });
    expect(interpolateInfluxQL('GROUP BY time($interval)', withVariable)).toBe('GROUP BY time(1h)');
  });

  it('replaces $__from/$__to with epoch ms, seconds or ISO dates', () => {
    const query = '$__from ${__to} ${__from:date:seconds} ${__to:date:seconds} ${__from:date:iso}';
    expect(interpolateInfluxQL(query, ctx())).toBe(
      `${FROM} ${FROM + HOUR} 1700000000 1700003600 2023-11-14T22:13:20.000Z`,
    );
  });

  it('floors seconds of a non-whole timestamp', () => {
    const context = { ...ctx(), range: { from: FROM + 999, to: FROM + HOUR } };
    expect(interpolateInfluxQL('${__from:date:seconds}', context)).toBe('1700000000');
  });

  it('leaves unsupported date formats untouched', () => {
    expect(interpolateInfluxQL('${__from:date:YYYY}', ctx())).toBe('${__from:date:YYYY}');
  });

  it('replaces the $__range variables', () => {
    expect(interpolateInfluxQL('$__range $__range_s $__range_ms', ctx())).toBe(
      '3600s 3600 3600000',
    );
  });
});

describe('interpolateInfluxQL: variables', () => {
  it('inserts a single-value variable as is outside regexes, in all three syntaxes', () => {
    const context = ctx({ site: single('lab.1') });
    expect(interpolateInfluxQL(`"site" = '$site' OR '\${site}' OR '[[site]]'`, context)).toBe(
      `"site" = 'lab.1' OR 'lab.1' OR 'lab.1'`,
    );
  });

  it('regex-escapes a single-value variable written as $name inside =~ /…/', () => {
    const context = ctx({ path: single('/var/log.d') });
    expect(interpolateInfluxQL(`"p" =~ /^$path$/ AND "q" = '$path'`, context)).toBe(
      `"p" =~ /^\\/var\\/log\\.d$/ AND "q" = '\\/var\\/log\\.d'`,
    );
  });

  it('does not detect ${name} inside a regex, like Grafana', () => {
    const context = ctx({ host: single('a.b') });
    expect(interpolateInfluxQL('"h" =~ /^${host}$/', context)).toBe('"h" =~ /^a.b$/');
  });

  it('formats a multi-value selection as an escaped alternation', () => {
    const context = ctx({ line: multi(['a', 'b.c']) });
    expect(interpolateInfluxQL('"line" =~ /^$line$/', context)).toBe('"line" =~ /^(a|b\\.c)$/');
  });

  it('keeps the parentheses for a single selected value of a multi-value variable', () => {
    expect(interpolateInfluxQL('/^$line$/', ctx({ line: multi(['a.b']) }))).toBe('/^(a\\.b)$/');
    expect(interpolateInfluxQL('/^$line$/', ctx({ line: multi('a.b') }))).toBe('/^a\\.b$/');
  });

  it('inserts numeric-looking single values unescaped', () => {
    expect(interpolateInfluxQL('/^$n$/', ctx({ n: multi('1.5') }))).toBe('/^1.5$/');
  });

  it('inserts a custom all value raw when All is selected', () => {
    const site = multi(['a', 'b'], { isAll: true, allValue: '.*' });
    expect(interpolateInfluxQL('"site" =~ /^$site$/', ctx({ site }))).toBe('"site" =~ /^.*$/');
  });

  it('uses every value when All is selected without a custom all value', () => {
    const site = multi(['a', 'b'], { isAll: true, allValue: null });
    expect(interpolateInfluxQL('"site" =~ /^$site$/', ctx({ site }))).toBe('"site" =~ /^(a|b)$/');
  });

  it('joins All of a single-value variable with commas outside a regex', () => {
    const site: VariableValue = { value: ['a', 'b'], multi: false, includeAll: true, isAll: true };
    expect(interpolateInfluxQL(`'$site'`, ctx({ site }))).toBe(`'a,b'`);
    expect(interpolateInfluxQL('=~ /$site/', ctx({ site }))).toBe('=~ /(a|b)/');
  });

  it('applies explicit formats', () => {
    const context = ctx({ v: multi(["it's", 'b.c']), s: single('x.y') });
    expect(
      interpolateInfluxQL(
        '${v:raw}|${v:csv}|${v:pipe}|${v:regex}|${s:regex}|${v:singlequote}|${v:doublequote}',
        context,
      ),
    ).toBe(`it's,b.c|it's,b.c|it's|b.c|(it's|b\\.c)|x\\.y|'it\\'s','b.c'|"it's","b.c"`);
    expect(interpolateInfluxQL('[[v:pipe]] ${v:unknown} ${s:glob}', context)).toBe(
      `it's|b.c {it's,b.c} x.y`,
    );
  });

  it('formats a custom all value only for text', () => {
    const site = multi(['a', 'b'], { isAll: true, allValue: '.*' });
    expect(interpolateInfluxQL('${site:raw} ${site:text}', ctx({ site }))).toBe('.* All');
  });

  it('matches variable names greedily so $site never eats $site_id', () => {
    const context = ctx({ site: single('s1'), site_id: single('42') });
    expect(interpolateInfluxQL('$site_id $site ${site}_x $sitex', context)).toBe(
      '42 s1 s1_x $sitex',
    );
  });

  it('leaves unknown variables untouched', () => {
    expect(interpolateInfluxQL(`"a" = '$missing' AND [[other]]`, ctx())).toBe(
      `"a" = '$missing' AND [[other]]`,
    );
  });
});

describe('unresolvedVariables', () => {
  it('lists the variables left in an interpolated query, once each', () => {
    const query = interpolateInfluxQL(
      `SELECT * FROM m WHERE "s" =~ /^$site$/ AND "d" = '\${device}' AND [[line]] AND $site AND $timeFilter`,
      ctx(),
    );
    expect(unresolvedVariables(query)).toEqual(['site', 'device', 'line']);
  });

  it('ignores regex anchors and resolved variables', () => {
    const query = interpolateInfluxQL(
      '"s" =~ /^$site$/ AND "x" =~ /^a$/',
      ctx({ site: single('a') }),
    );
    expect(unresolvedVariables(query)).toEqual([]);
  });
});
