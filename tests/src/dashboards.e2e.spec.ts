import { DEV_GROUP_KEY, deviceCredentials } from '@parkpulse/dev-services';
import {
  ALERTS,
  DASHBOARDS,
  OEE_PER_LINE,
  failures,
  generate,
  hasData,
  interpolateInfluxQL,
  runDashboard,
  type DashboardRun,
  type GrafanaDashboard,
  type InfluxSeries,
  type TimeRange,
  UID,
} from '@parkpulse/dashboards';
import { alarmEventPoint, backfillStatements, commandPoint } from '@parkpulse/influx';
import type { ParkId } from '@parkpulse/telemetry';
import mqtt from 'mqtt';
import { backfill, loadScenario, type BackfillResult, type SimMessage } from '@parkpulse/park-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@parkpulse/dev-services';
import { metricValue, startPlatform, type Platform } from './support/platform.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The parks' local time is UTC+8. */
const LOCAL = 8 * HOUR;

/** 14:00 in the parks — the middle of the early shift — of the latest day where that is past. */
function lastShiftAfternoon(now: number): number {
  const today = Math.floor((now + LOCAL) / DAY) * DAY - LOCAL;
  const t = today + 14 * HOUR;
  return t <= now ? t : t - DAY;
}

/** The production line whose OEE the test computes by hand (a site only science-city-demo has). */
const LINE_SITE = 'robotics-works';

describe('dashboards: every panel and variable against the science-city-demo and four-areas fleets', () => {
  let platform: Platform;
  let science: BackfillResult;
  let now: number;
  let shiftEnd: number;
  const line: Extract<SimMessage, { kind: 'telemetry' }>[] = [];
  const dashboards = [...generate()]
    .filter(([path]) => path.endsWith('.json'))
    .map(([, content]) => JSON.parse(content) as GrafanaDashboard);
  const query = async (influxql: string): Promise<InfluxSeries[]> =>
    (await platform.store.query(influxql)).flat();
  /** The device the device-detail dashboard shows: one that reported events. */
  const shown: Record<string, string> = {};
  const runAll = async (range: TimeRange): Promise<DashboardRun[]> => {
    const runs: DashboardRun[] = [];
    const pick = (name: string, values: string[]) => shown[name] ?? values[0] ?? '';
    for (const d of dashboards)
      runs.push(await runDashboard(d, query, d.uid === UID.device ? { range, pick } : { range }));
    return runs;
  };

  beforeAll(async () => {
    platform = await startPlatform({
      ingestionEnv: { PLATFORM_STATS_INTERVAL_MS: '1000' },
      brokerEnv: { STATS_INTERVAL_MS: '1000' },
    });
    now = Date.now();
    shiftEnd = lastShiftAfternoon(now);
    // All four parks, the last 10 minutes; these devices then disconnect (offline in the overview).
    const fourAreas = await backfill({
      url: platform.mqttUrl,
      groupKey: DEV_GROUP_KEY,
      scenario: await loadScenario('four-areas'),
      durationMs: 10 * MINUTE,
      endMs: now,
    });
    expect(fourAreas.acked).toBe(fourAreas.sent);
    // Science City, an hour of an early shift; these devices stay connected (online).
    let lineId = '';
    science = await backfill({
      url: platform.mqttUrl,
      groupKey: DEV_GROUP_KEY,
      scenario: await loadScenario('science-city-demo'),
      durationMs: 2 * HOUR,
      endMs: shiftEnd,
      keepConnected: true,
      onMessage: (m) => {
        if (m.kind !== 'telemetry' || m.device.asset.id !== 'production_line') return;
        if (m.device.site !== LINE_SITE) return;
        lineId ||= m.device.deviceId;
        if (m.device.deviceId === lineId) line.push(m);
      },
    });
    expect(science.acked).toBe(science.sent);
    // A firmware bug: dead letters for the platform-health dashboard.
    const faulty = await mqtt.connectAsync(platform.mqttUrl, deviceCredentials('sc-faulty-device'));
    for (const payload of ['not json', '{"ts": "yesterday", "metrics": {}}', '{"metrics": 7}'])
      await faulty.publishAsync(
        'parks/science-city/robotics-works/cnc_machine/sc-faulty-device/telemetry',
        payload,
        { qos: 1 },
      );
    await faulty.endAsync();
    // A PUBACK means stored; the faulty device's dead letters and the figures come on top.
    const samples = fourAreas.sent + science.sent;
    await waitFor(
      'every backfilled sample stored',
      async () => {
        const written = await metricValue(
          platform.ingestionHttp,
          'parkpulse_ingest_points_written_total',
        );
        const pending = await metricValue(
          platform.ingestionHttp,
          'parkpulse_ingest_pending_messages',
        );
        return written >= samples && pending === 0;
      },
      180_000,
    );
    const [events = []] = await platform.store.query(
      `SELECT "message", "park", "site", "device", "asset_type" FROM "device_event" WHERE "park" = 'bio-island' LIMIT 1`,
    );
    const [, , park = '', site = '', device = '', assetType = ''] = (events[0]?.values[0] ??
      []) as string[];
    Object.assign(shown, { park, site, device });
    // The operations service's alarm journal for that device (raised, acknowledged), in the
    // service's own mapping: the alarm panels and the annotation query read it.
    const topic = {
      park: park as ParkId,
      site,
      assetType,
      deviceId: device,
      channel: 'event' as const,
    };
    const raisedAt = Date.now() - 2 * MINUTE;
    await platform.store.write(
      [
        { action: 'activate', state: 'unacknowledged', by: 'system', ts: raisedAt },
        {
          action: 'acknowledge',
          state: 'acknowledged',
          by: 'olga',
          ts: raisedAt + 20_000,
          comment: 'on it',
        },
      ].map((e) =>
        alarmEventPoint({
          topic,
          id: `${device}.door_open.event`,
          alarm: 'door_open.event',
          priority: 'medium',
          value: true,
          ...e,
        }),
      ),
    );
    // A command the operations service sent that device, every state it went through.
    await platform.store.write(
      ['queued', 'sent', 'delivered', 'accepted', 'done'].map((status, i) =>
        commandPoint({
          topic: { ...topic, channel: 'cmd' as const },
          id: 'dashboard-cmd-1',
          name: 'set_setpoint',
          status,
          source: 'operations',
          ts: raisedAt + 30_000 + i * 500,
          by: 'olga',
        }),
      ),
    );
    // History arrived after its continuous queries' windows: roll it up as operators would.
    for (const statement of backfillStatements('telemetry', shiftEnd - 3 * HOUR, Date.now()))
      await platform.store.query(statement);
    // A few of the platform's own figures (every second here).
    await new Promise((r) => setTimeout(r, 3000));
  }, 600_000);

  afterAll(async () => {
    await science?.close();
    await platform?.stop();
  });

  it('runs every panel and variable query (as Grafana sends it) with data, over the raw tier', async () => {
    const range = { from: shiftEnd - 3 * HOUR, to: Date.now() };
    const runs = await runAll(range);
    expect(runs.map((r) => r.variables['rp']?.value ?? 'raw').filter((v) => v !== 'raw')).toEqual(
      [],
    );
    expect(runs.flatMap((r) => failures(r))).toEqual([]);
    // every dashboard has panels that were run, and every variable was resolved
    for (const r of runs)
      expect(r.checks.filter((c) => c.kind === 'panel').length).toBeGreaterThan(0);
    expect(runs.reduce((n, r) => n + r.checks.length, 0)).toBeGreaterThan(70);
    // The device's alarms on its time axes: the annotation query ran and found the raise.
    const annotations = runs.flatMap((r) => r.checks).filter((c) => c.kind === 'annotation');
    expect(annotations.map((c) => [c.title, c.series[0]?.values.length])).toEqual([
      ['annotation Alarms raised', 1],
    ]);
  });

  it.each([
    ['7 days', 7 * DAY, 'rollup_1m'],
    ['30 days', 30 * DAY, 'rollup_1h'],
  ])('reads the roll-ups for %s, with data in every panel', async (_label, span, tier) => {
    const to = Date.now();
    const runs = await runAll({ from: to - span, to });
    for (const r of runs)
      if (r.variables['rp']) expect(r.variables['rp'].value, r.dashboard).toEqual(tier);
    expect(runs.flatMap((r) => failures(r))).toEqual([]);
  });

  it('shows the OEE of a line exactly as computed by hand from its states and counters', async () => {
    expect(line.length).toBeGreaterThan(700); // two hours at one sample per 10 s
    expect(
      await platform.count('production_line', 'state', `"device" = '${line[0]!.device.deviceId}'`),
    ).toBe(line.length);
    const num = (m: (typeof line)[number], k: string) => m.payload.metrics[k] as number;
    const first = line[0]!;
    const last = line.at(-1)!;
    // Availability from the states: each interval counts towards the state sampled at its end.
    let runS = 0;
    for (let i = 1; i < line.length; i++)
      if (line[i]!.payload.metrics['state'] === 'running')
        runS += (line[i]!.payload.ts - line[i - 1]!.payload.ts) / 1000;
    const plannedS = num(last, 'planned_time_s') - num(first, 'planned_time_s');
    const good = num(last, 'good_count') - num(first, 'good_count');
    const parts = good + num(last, 'scrap_count') - num(first, 'scrap_count');
    const ideal = num(last, 'ideal_cycle_time_s');
    const availability = runS / plannedS;
    const performance = (ideal * parts) / runS;
    const quality = good / parts;
    const oee = availability * performance * quality;
    expect(plannedS).toBeGreaterThan(7000); // the two hours are in the early shift
    expect(oee).toBeGreaterThan(0.3);
    expect(oee).toBeLessThan(1);

    const range = { from: shiftEnd - 3 * HOUR, to: Date.now() };
    const [result] = (
      await platform.store.query(
        interpolateInfluxQL(OEE_PER_LINE, {
          range,
          interval: '10s',
          intervalMs: 10_000,
          variables: {
            rp: { value: 'raw', multi: false, includeAll: false },
            park: { value: 'science-city', multi: false, includeAll: false },
            site: { value: [LINE_SITE], multi: true, includeAll: true },
            device: { value: [], multi: true, includeAll: true, allValue: '.*', isAll: true },
          },
        }),
      )
    )[0]!.filter((series) => series.tags?.['device'] === first.device.deviceId);
    expect(result).toBeDefined();
    const [, shownA = NaN, shownP = NaN, shownQ = NaN, shownOee = NaN] = result!
      .values[0] as number[];
    expect(shownOee).toBeCloseTo(oee, 9);
    expect(shownQ).toBeCloseTo(quality, 12);
    // the dashboard's availability is the line's own run-time counter, not the sampled states
    expect(Math.abs(shownA - availability)).toBeLessThan(0.02);
    expect(shownA * shownP).toBeCloseTo(availability * performance, 9);
  });

  it('runs every alert rule query; no freezer or laboratory alarms on a healthy fleet', async () => {
    const range = { from: Date.now() - 30 * DAY, to: Date.now() };
    for (const alert of ALERTS) {
      const lookback = { from: range.to - 30 * DAY, to: range.to };
      const series = await query(
        interpolateInfluxQL(alert.query, {
          range: lookback,
          interval: '1m',
          intervalMs: MINUTE,
          variables: {},
        }),
      );
      if (alert.uid === 'parkpulse-freezer-warm' || alert.uid === 'parkpulse-cascade-lost') {
        expect(hasData(series), alert.title).toBe(true);
        const worst = Math.max(...series.map((s) => s.values[0]![1] as number));
        expect(worst, alert.title).toBeLessThanOrEqual(alert.threshold.value);
      }
      if (alert.uid === 'parkpulse-device-offline')
        // the four-areas fleet disconnected: one series per device
        expect(series.length).toBeGreaterThan(1000);
    }
  });

  it('generated every dashboard of the provisioning', () => {
    expect(dashboards).toHaveLength(DASHBOARDS.length);
  });
});
