import { describe, expect, it } from 'vitest';
import {
  AccessControl,
  deriveDeviceKey,
  newGroupKey,
  parseRegistry,
  type Identity,
} from './index.js';

const KEY = newGroupKey();
const OTHER = newGroupKey();
const ENV = { SP_KEY: KEY, CNC_KEY: OTHER, ING: 'ingestion-secret', OBS: 'observer-secret' };
const REGISTRY = `
version: 1
groups:
  - id: sc-gateways
    keyEnv: SP_KEY
    parks: [science-city]
    sites: [gz-auto-parts]
    assetTypes: [production_line]
    devicePattern: 'gz-line-[0-9]+-plc'
  - id: sc-cnc
    keyEnv: CNC_KEY
    parks: [science-city]
    sites: '*'
    assetTypes: [cnc_machine]
    devicePattern: 'cnc-[0-9]{3}'
services:
  - { id: parkpulse-ingestion, role: ingestion, secretEnv: ING }
  - { id: parkpulse-observer, role: observer, secretEnv: OBS }
sparkplug:
  hostId: parkpulse
  nodes:
    - group: science-city
      node: gz-line-1-plc
      park: science-city
      site: gz-auto-parts
      assetType: production_line
      deviceId: gz-line-1
      devices:
        - { id: cnc-1, assetType: cnc_machine, deviceId: gz-cnc-001 }
        - { id: robot-1, assetType: industrial_robot, deviceId: gz-robot-001 }
    - group: science-city
      node: gz-line-2-plc
      park: science-city
      site: gz-auto-parts
      assetType: production_line
      deviceId: gz-line-2
  metricNames:
    cnc_machine:
      'Spindle/Speed RPM': spindle_rpm
`;
const registry = parseRegistry(REGISTRY, ENV);
const access = new AccessControl(registry);

async function login(id: string, key = deriveDeviceKey(KEY, id)): Promise<Identity> {
  const result = await access.authenticate(id, id, key);
  if (!result.ok) throw new Error(result.refusal.message);
  return result.identity;
}

describe('Sparkplug edge nodes in the registry', () => {
  it('reads the sparkplug section with its defaults', () => {
    expect(registry.sparkplug).toEqual({
      hostId: 'parkpulse',
      unmappedMetrics: 'store',
      nodes: [
        {
          group: 'science-city',
          node: 'gz-line-1-plc',
          park: 'science-city',
          site: 'gz-auto-parts',
          assetType: 'production_line',
          deviceId: 'gz-line-1',
          devices: [
            { id: 'cnc-1', assetType: 'cnc_machine', deviceId: 'gz-cnc-001' },
            { id: 'robot-1', assetType: 'industrial_robot', deviceId: 'gz-robot-001' },
          ],
        },
        {
          group: 'science-city',
          node: 'gz-line-2-plc',
          park: 'science-city',
          site: 'gz-auto-parts',
          assetType: 'production_line',
          deviceId: 'gz-line-2',
          devices: [],
        },
      ],
      metricNames: { cnc_machine: { 'Spindle/Speed RPM': 'spindle_rpm' } },
    });
  });

  it('a registry without a sparkplug section has none', () => {
    expect(parseRegistry('version: 1\n', {}).sparkplug).toBeUndefined();
  });

  it('lists every problem of the sparkplug section at once', () => {
    const bad = `
version: 1
services:
  - { id: parkpulse-ingestion, role: ingestion, secretEnv: ING }
sparkplug:
  nodes:
    - { group: g, node: n1, park: science-city, site: f1, assetType: cnc_machine, deviceId: d1,
        devices: [{ id: a, assetType: cnc_machine, deviceId: d1 }, { id: a, assetType: cnc_machine, deviceId: d2 }] }
    - { group: g, node: n1, park: science-city, site: f1, assetType: cnc_machine, deviceId: d3 }
    - { group: g, node: parkpulse-ingestion, park: science-city, site: f1, assetType: cnc_machine, deviceId: d4 }
  metricNames:
    cnc_machine: { 'Speed': not_a_metric }
`;
    expect(() => parseRegistry(bad, ENV)).toThrow(
      [
        'registry: 5 problem(s):',
        '  sparkplug device n1/a: listed twice',
        '  sparkplug: device d1 is mapped twice in park science-city',
        '  sparkplug edge node n1: listed twice',
        '  sparkplug edge node parkpulse-ingestion: id of a service account',
        '  sparkplug.metricNames.cnc_machine."Speed": "not_a_metric" is not a cnc_machine metric',
      ].join('\n'),
    );
  });

  it.each([
    ['a group with a wildcard', 'group: "a+b"', 'sparkplug.nodes.0.group'],
    ['an unknown park', 'park: mars', 'sparkplug.nodes.0.park'],
    ['an unknown asset type', 'assetType: teapot', 'sparkplug.nodes.0.assetType'],
  ])('refuses %s', (_label, line, path) => {
    const text = `
version: 1
sparkplug:
  nodes:
    - { group: g, node: n, park: science-city, site: f1, assetType: cnc_machine, deviceId: d }
`.replace(new RegExp(`${line.split(':')[0]}: [^,}]+`), line);
    expect(() => parseRegistry(text, {})).toThrow(path);
  });
});

describe('Sparkplug rules', () => {
  it('an edge node authenticates like a device of its enrolment group', async () => {
    const identity = await login('gz-line-1-plc');
    expect(identity).toMatchObject({ kind: 'device', id: 'gz-line-1-plc', via: 'sc-gateways' });
    const wrong = await access.authenticate(
      'gz-line-1-plc',
      'gz-line-1-plc',
      deriveDeviceKey(OTHER, 'gz-line-1-plc'),
    );
    expect(wrong.ok).toBe(false);
  });

  it('publishes its own node and declared device messages only', async () => {
    const node = await login('gz-line-1-plc');
    const ok = [
      'spBv1.0/science-city/NBIRTH/gz-line-1-plc',
      'spBv1.0/science-city/NDATA/gz-line-1-plc',
      'spBv1.0/science-city/NDEATH/gz-line-1-plc',
      'spBv1.0/science-city/DBIRTH/gz-line-1-plc/cnc-1',
      'spBv1.0/science-city/DDATA/gz-line-1-plc/robot-1',
      'spBv1.0/science-city/DDEATH/gz-line-1-plc/cnc-1',
    ];
    for (const topic of ok) expect([topic, access.mayPublish(node, topic)]).toEqual([topic, true]);
    const refused = [
      'spBv1.0/science-city/NBIRTH/gz-line-2-plc', // another edge node
      'spBv1.0/other-group/NBIRTH/gz-line-1-plc', // another group
      'spBv1.0/science-city/DDATA/gz-line-1-plc/cnc-9', // a device it does not declare
      'spBv1.0/science-city/NCMD/gz-line-1-plc', // commands are the host's
      'spBv1.0/science-city/DCMD/gz-line-1-plc/cnc-1',
      'spBv1.0/STATE/parkpulse', // STATE is the host's
      'spBv1.0/science-city/NBIRTH/gz-line-1-plc/extra',
      'spBv1.0/science-city/DDATA/gz-line-1-plc',
      'spBv1.0/science-city/NDATA/+',
    ];
    for (const topic of refused)
      expect([topic, access.mayPublish(node, topic)]).toEqual([topic, false]);
  });

  it('subscribes to its own commands and the host’s STATE only', async () => {
    const node = await login('gz-line-1-plc');
    const ok = [
      'spBv1.0/science-city/NCMD/gz-line-1-plc',
      'spBv1.0/science-city/NCMD/gz-line-1-plc/#', // what Tahu's client asks for
      'spBv1.0/science-city/DCMD/gz-line-1-plc/#',
      'spBv1.0/science-city/DCMD/gz-line-1-plc/+',
      'spBv1.0/science-city/DCMD/gz-line-1-plc/cnc-1',
      'spBv1.0/STATE/parkpulse',
    ];
    for (const f of ok) expect([f, access.maySubscribe(node, f)]).toEqual([f, true]);
    const refused = [
      'spBv1.0/#',
      'spBv1.0/science-city/#',
      'spBv1.0/science-city/NCMD/+',
      'spBv1.0/science-city/NCMD/gz-line-2-plc',
      'spBv1.0/science-city/DCMD/gz-line-1-plc/cnc-9',
      'spBv1.0/science-city/NDATA/gz-line-1-plc',
      'spBv1.0/STATE/+',
      'spBv1.0/STATE/other-host',
    ];
    for (const f of refused) expect([f, access.maySubscribe(node, f)]).toEqual([f, false]);
    expect(access.mayReceive(node, 'spBv1.0/science-city/NCMD/gz-line-1-plc')).toBe(true);
    expect(access.mayReceive(node, 'spBv1.0/science-city/NCMD/gz-line-2-plc')).toBe(false);
  });

  it('a device that is no edge node has no Sparkplug rights', async () => {
    const cnc = await login('cnc-001', deriveDeviceKey(OTHER, 'cnc-001'));
    expect(access.mayPublish(cnc, 'spBv1.0/science-city/NBIRTH/cnc-001')).toBe(false);
    expect(access.maySubscribe(cnc, 'spBv1.0/STATE/parkpulse')).toBe(false);
  });

  it('only the host identity (the ingestion role) publishes STATE and NCMD/DCMD', async () => {
    const ingestion = await access.authenticate(
      'parkpulse-ingestion',
      'parkpulse-ingestion',
      'ingestion-secret',
    );
    const observer = await access.authenticate(
      'parkpulse-observer',
      'parkpulse-observer',
      'observer-secret',
    );
    if (!ingestion.ok || !observer.ok) throw new Error('login failed');
    for (const topic of [
      'spBv1.0/STATE/parkpulse',
      'spBv1.0/science-city/NCMD/gz-line-1-plc',
      'spBv1.0/science-city/DCMD/gz-line-1-plc/cnc-1',
    ]) {
      expect(access.mayPublish(ingestion.identity, topic)).toBe(true);
      expect(access.mayPublish(observer.identity, topic)).toBe(false);
    }
    expect(access.mayPublish(ingestion.identity, 'spBv1.0/science-city/NDATA/gz-line-1-plc')).toBe(
      false,
    );
    // Edge nodes' messages reach the host (the ingestion) over the broker's ingest link.
    expect(access.maySubscribe(ingestion.identity, 'spBv1.0/#')).toBe(false);
    expect(access.maySubscribe(observer.identity, 'spBv1.0/#')).toBe(true);
  });
});
