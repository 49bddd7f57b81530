import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ALERTS } from './alerts.js';
import {
  ALERTING_FILE,
  DASHBOARD_DIR,
  DASHBOARDS,
  INFLUX_INIT_FILE,
  generate,
  outdated,
} from './generate.js';
import { unresolvedVariables } from './grafana/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Panel {
  type: string;
  title: string;
  description?: string;
  datasource?: { uid?: string };
  targets?: { query?: string; datasource?: { uid?: string } }[];
  gridPos?: { x: number; y: number; w: number; h: number };
}

interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list?: { name: string; query?: unknown; datasource?: { uid?: string } }[] };
}

const dashboards = (): Dashboard[] =>
  [...generate()]
    .filter(([path]) => path.startsWith(DASHBOARD_DIR))
    .map(([, content]) => JSON.parse(content) as Dashboard);

describe('generated provisioning', () => {
  it('is what is committed (run `npm run dashboards` after changing the code)', () => {
    expect(outdated(ROOT)).toEqual([]);
  });

  it('gives every dashboard a unique uid and every panel a title, a description and a slot', () => {
    const all = dashboards();
    expect(all).toHaveLength(DASHBOARDS.length);
    expect(new Set(all.map((d) => d.uid)).size).toBe(all.length);
    for (const d of all) {
      const cells = new Set<string>();
      for (const p of d.panels) {
        expect(p.title, d.title).toBeTruthy();
        if (p.type !== 'row') expect(p.description, `${d.title} / ${p.title}`).toBeTruthy();
        const g = p.gridPos!;
        expect(g.x + g.w, `${d.title} / ${p.title}`).toBeLessThanOrEqual(24);
        for (let x = g.x; x < g.x + g.w; x++)
          for (let y = g.y; y < g.y + g.h; y++) {
            const cell = `${x},${y}`;
            expect(cells.has(cell), `${d.title} / ${p.title} overlaps at ${cell}`).toBe(false);
            cells.add(cell);
          }
      }
    }
  });

  it('uses only the provisioned datasource, by uid', () => {
    const file = parse(read('deploy/grafana/provisioning/datasources/influxdb.yaml')) as {
      datasources: { uid: string; type: string; jsonData: { version: string } }[];
    };
    const uids = new Set(file.datasources.map((d) => d.uid));
    expect(file.datasources[0]).toMatchObject({
      type: 'influxdb',
      jsonData: { version: 'InfluxQL' },
    });
    const used = dashboards().flatMap((d) => [
      ...d.panels.flatMap((p) => [
        p.datasource?.uid,
        ...(p.targets ?? []).map((t) => t.datasource?.uid),
      ]),
      ...(d.templating.list ?? []).map((v) => v.datasource?.uid),
    ]);
    for (const uid of used.filter((u): u is string => u !== undefined)) expect(uids).toContain(uid);
    const rules = parse(read(ALERTING_FILE)) as {
      groups: { rules: { data: { datasourceUid: string }[] }[] }[];
    };
    for (const q of rules.groups.flatMap((g) => g.rules.flatMap((r) => r.data)))
      expect([...uids, '__expr__']).toContain(q.datasourceUid);
  });

  it('never queries raw points without grouping by time, except bounded tables and stats', () => {
    for (const d of dashboards())
      for (const p of d.panels)
        for (const t of p.targets ?? []) {
          const query = t.query ?? '';
          if (p.type !== 'timeseries' && p.type !== 'state-timeline') continue;
          expect(query, `${d.title} / ${p.title}`).toMatch(
            /GROUP BY time\(\$(__interval|oee_window)\)/,
          );
        }
  });

  it('uses only variables the dashboard defines (or Grafana’s own)', () => {
    const builtIn = new Set([
      'timeFilter',
      '__interval',
      '__from',
      '__to',
      'tag_device',
      'tag_site',
      'tag_park',
      'tag_instance',
      'tag_reason',
      'tag_broker',
      'col',
    ]);
    for (const d of dashboards()) {
      const defined = new Set((d.templating.list ?? []).map((v) => v.name));
      const queries = [
        ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.query ?? '')),
        ...(d.templating.list ?? []).map((v) => (typeof v.query === 'string' ? v.query : '')),
      ];
      for (const name of queries.flatMap(unresolvedVariables))
        expect(defined.has(name) || builtIn.has(name), `${d.title}: $${name}`).toBe(true);
    }
  });

  it('provisions the alert rules with a contact point and a policy', () => {
    const file = parse(read(ALERTING_FILE)) as {
      apiVersion: number;
      groups: {
        folder: string;
        interval: string;
        rules: { uid: string; for: string; condition: string }[];
      }[];
      contactPoints: { name: string; receivers: { type: string }[] }[];
      policies: { receiver: string }[];
    };
    expect(file.apiVersion).toBe(1);
    expect(file.groups[0]!.rules.map((r) => r.uid)).toEqual(ALERTS.map((a) => a.uid));
    expect(file.groups[0]!.interval).toBe('60s');
    expect(file.policies[0]!.receiver).toBe(file.contactPoints[0]!.name);
  });

  it('writes an InfluxDB init script the image can run: one statement per line, nothing else', () => {
    const lines = read(INFLUX_INIT_FILE).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe('CREATE DATABASE "telemetry"');
    for (const line of lines) expect(line).toMatch(/^(CREATE|INSERT) /);
  });

  it('is built into the container image: every workspace manifest is copied before npm ci', () => {
    const dockerfile = read('deploy/docker/Dockerfile');
    const workspaces = ['apps', 'libs', 'simulators'].flatMap((dir) =>
      readdirSync(join(ROOT, dir))
        .map((name) => `${dir}/${name}`)
        .filter((ws) => existsSync(join(ROOT, ws, 'package.json'))),
    );
    for (const ws of [...workspaces, 'tests'])
      expect(dockerfile).toContain(`COPY ${ws}/package.json ${ws}/`);
  });

  it('is mounted by docker-compose where Grafana reads it', () => {
    const compose = parse(read('docker-compose.yml')) as {
      services: Record<string, { volumes?: string[]; environment?: Record<string, string> }>;
    };
    const grafana = compose.services['grafana']!;
    expect(grafana.volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(grafana.volumes).toContain('./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro');
    const provider = parse(read('deploy/grafana/provisioning/dashboards/parkpulse.yaml')) as {
      providers: { options: { path: string; foldersFromFilesStructure: boolean } }[];
    };
    expect(provider.providers[0]!.options).toEqual({
      path: '/var/lib/grafana/dashboards',
      foldersFromFilesStructure: true,
    });
    const home = grafana.environment!['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH']!;
    const relative = home.replace('/var/lib/grafana/dashboards/', '');
    expect(readdirSync(join(ROOT, DASHBOARD_DIR), { recursive: true })).toContain(relative);
    const influx = compose.services['influxdb']!;
    expect(influx.volumes).toContain('./deploy/influxdb/init:/docker-entrypoint-initdb.d:ro');
  });
});
