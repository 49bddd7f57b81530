import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AccessControl,
  decodeBase64Strict,
  deriveDeviceKey,
  filterCovers,
  hashSecret,
  newGroupKey,
  parseRegistry,
  topicMatches,
  verifySecret,
  type Identity,
} from './index.js';

const GROUP_KEY = newGroupKey();
const OTHER_KEY = newGroupKey();
const ULF_KEY = 'a-random-key-of-a-registered-freezer';
const ULF_HASH = hashSecret(ULF_KEY);
const ENV = {
  SC_KEY: GROUP_KEY,
  BIO_KEY: OTHER_KEY,
  ING: 'ingestion-secret',
  OBS: 'observer-secret',
  OPS: 'operations-secret',
};
const REGISTRY = `
version: 1
groups:
  - id: sc-cnc
    keyEnv: SC_KEY
    parks: [science-city]
    sites: [gz-auto-parts, robotics-works]
    assetTypes: [cnc_machine]
    devicePattern: 'cnc-[0-9]{3}'
  - id: bio-env
    keyEnv: BIO_KEY
    parks: [bio-island]
    sites: '*'
    assetTypes: '*'
    devicePattern: 'env-.*'
devices:
  - { id: ulf-001, park: bio-island, site: bsl-3, assetType: ultra_low_freezer, keyHash: '${ULF_HASH}' }
services:
  - { id: parkpulse-ingestion, role: ingestion, secretEnv: ING }
  - { id: parkpulse-observer, role: observer, secretEnv: OBS }
  - { id: ops, role: operator, secretHash: '${hashSecret('operator-secret')}' }
  - { id: parkpulse-operations, role: operations, secretEnv: OPS }
`;
const access = new AccessControl(parseRegistry(REGISTRY, ENV));

async function identity(clientId: string, username: string, password: string): Promise<Identity> {
  const result = await access.authenticate(clientId, username, password);
  if (!result.ok) throw new Error(result.refusal.message);
  return result.identity;
}

describe('device keys', () => {
  it('derives base64url(HMAC-SHA256(group key, device id)) from the decoded group key', () => {
    const expected = createHmac('sha256', Buffer.from(GROUP_KEY, 'base64'))
      .update('cnc-001')
      .digest('base64url');
    expect(deriveDeviceKey(GROUP_KEY, 'cnc-001')).toBe(expected);
    expect(deriveDeviceKey(GROUP_KEY, 'cnc-002')).not.toBe(expected);
    // url-safe spelling of the same key derives the same device keys
    const urlSafe = GROUP_KEY.replace(/\+/g, '-').replace(/\//g, '_');
    expect(deriveDeviceKey(urlSafe, 'cnc-001')).toBe(expected);
  });

  it('decodes base64 strictly: one alphabet, complete padding, no stray bits', () => {
    expect(decodeBase64Strict('AAEC')).toEqual(Buffer.from([0, 1, 2]));
    expect(decodeBase64Strict('AAE=')).toEqual(Buffer.from([0, 1]));
    expect(decodeBase64Strict('AAE')).toEqual(Buffer.from([0, 1]));
    expect(decodeBase64Strict('-_8')).toEqual(Buffer.from([0xfb, 0xff]));
    expect(decodeBase64Strict('+/8=')).toEqual(Buffer.from([0xfb, 0xff]));
    expect(decodeBase64Strict('+_8')).toBeUndefined(); // mixed alphabets
    expect(decodeBase64Strict('AAF')).toBeUndefined(); // stray bits in the last character
    expect(decodeBase64Strict('AAE==')).toBeUndefined();
    expect(decodeBase64Strict('A')).toBeUndefined();
  });

  it('refuses group keys shorter than 32 bytes or not base64', () => {
    expect(() => deriveDeviceKey(Buffer.alloc(16).toString('base64'), 'x')).toThrow(/32 bytes/);
    expect(() => deriveDeviceKey('not base64!', 'x')).toThrow(/base64/);
  });

  it('hashes secrets with scrypt and a random salt', () => {
    const a = hashSecret('s3cret');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(hashSecret('s3cret')).not.toBe(a);
    expect(verifySecret('s3cret', a)).toBe(true);
    expect(verifySecret('s3cret ', a)).toBe(false);
  });
});

describe('registry file', () => {
  it('lists every problem at once: schema, unknown parks, missing secrets', () => {
    const text = `
version: 1
groups:
  - { id: g1, keyEnv: MISSING_KEY, parks: [atlantis], sites: '*', assetTypes: [toaster] }
devices:
  - { id: d1, park: science-city, site: f1, assetType: cnc_machine, keyHash: 'plain' }
services:
  - { id: s1, role: admin, secretEnv: S1 }
`;
    let message = '';
    try {
      parseRegistry(text, {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('groups.0.parks.0');
    expect(message).toContain('groups.0.assetTypes.0');
    expect(message).toContain('devices.0.keyHash');
    expect(message).toContain('services.0.role');
  });

  it('names the environment variables that are not set', () => {
    expect(() => parseRegistry(REGISTRY, { SC_KEY: GROUP_KEY })).toThrow(
      /BIO_KEY is not set[\s\S]*ING is not set[\s\S]*OBS is not set/,
    );
  });

  it('ships a dev registry that loads with the documented dev secrets', () => {
    const text = readFileSync(
      resolve(import.meta.dirname, '../../../deploy/registry/registry.yaml'),
      'utf8',
    );
    const registry = parseRegistry(text, {
      PARKPULSE_DEV_GROUP_KEY: GROUP_KEY,
      PARKPULSE_INGESTION_SECRET: 'a',
      PARKPULSE_OBSERVER_SECRET: 'b',
      PARKPULSE_OPERATOR_SECRET: 'c',
      PARKPULSE_OPERATIONS_SECRET: 'd',
    });
    expect([...registry.services.keys()]).toEqual([
      'parkpulse-ingestion',
      'parkpulse-observer',
      'parkpulse-operator',
      'parkpulse-operations',
    ]);
  });
});

describe('authentication: CONNACK codes', () => {
  const key = (id: string) => deriveDeviceKey(GROUP_KEY, id);
  const refusal = async (clientId: string, username?: string, password?: string) => {
    const result = await access.authenticate(clientId, username, password);
    return result.ok ? 'accepted' : [result.refusal.returnCode, result.refusal.reason];
  };

  it('accepts a group device with its derived key, and a registered device with its key', async () => {
    expect(await identity('cnc-001', 'cnc-001', key('cnc-001'))).toMatchObject({
      kind: 'device',
      via: 'sc-cnc',
    });
    expect(await identity('ulf-001', 'ulf-001', ULF_KEY)).toMatchObject({ via: 'registered' });
    expect(await identity('ulf-001', 'ulf-001', ULF_KEY)).toMatchObject({ via: 'registered' });
  });

  it('accepts the derived key in every spelling of its 32 bytes: base64url or base64, padded or not', async () => {
    const bytes = createHmac('sha256', Buffer.from(GROUP_KEY, 'base64')).update('cnc-001').digest();
    const spellings = [
      bytes.toString('base64url'), // 43 characters, the documented form
      `${bytes.toString('base64url')}=`,
      bytes.toString('base64'), // what Java's, Go's and Python's standard encoders emit
      bytes.toString('base64').replace(/=$/, ''),
    ];
    for (const spelling of spellings)
      expect(await identity('cnc-001', 'cnc-001', spelling)).toMatchObject({ via: 'sc-cnc' });
  });

  it('refuses what is not one canonical spelling of the key', async () => {
    const url = key('cnc-001');
    const flipped = url.slice(0, -1) + (url.endsWith('A') ? 'B' : 'A');
    for (const bad of [
      `${url}==`, // too much padding
      `${url}A=`, // 44 characters padded: not a multiple of 4 with its padding
      flipped, // another key
      url.slice(0, -1), // a character short
      ` ${url}`,
      `${url}\n`,
    ])
      expect(await refusal('cnc-001', 'cnc-001', bad)).toEqual([4, 'bad_secret']);
  });

  it('refuses with 4 (bad user name or password), 5 (not authorised) and 2 (identifier rejected)', async () => {
    expect(await refusal('cnc-001', 'cnc-001', key('cnc-002'))).toEqual([4, 'bad_secret']);
    expect(await refusal('cnc-001', 'cnc-001', deriveDeviceKey(OTHER_KEY, 'cnc-001'))).toEqual([
      4,
      'bad_secret',
    ]);
    expect(await refusal('ulf-001', 'ulf-001', 'guess')).toEqual([4, 'bad_secret']);
    expect(await refusal('cnc-001')).toEqual([4, 'no_credentials']);
    expect(await refusal('cnc-001', 'cnc-001', '')).toEqual([4, 'no_credentials']);
    expect(await refusal('plc-9', 'plc-9', 'anything')).toEqual([5, 'unknown_identity']);
    expect(await refusal('cnc-002', 'cnc-001', key('cnc-001'))).toEqual([2, 'client_id_mismatch']);
    expect(await refusal('cnc,x', 'cnc,x', key('cnc,x'))).toEqual([2, 'client_id_invalid']);
    expect(await refusal('other', 'parkpulse-ingestion', 'ingestion-secret')).toEqual([
      2,
      'client_id_mismatch',
    ]);
    expect(await refusal('parkpulse-observer', 'parkpulse-observer', 'nope')).toEqual([
      4,
      'bad_secret',
    ]);
  });

  it('lets a service account use several client ids that start with its id', async () => {
    expect(
      await identity('parkpulse-observer-1', 'parkpulse-observer', 'observer-secret'),
    ).toMatchObject({ kind: 'service', id: 'parkpulse-observer', role: 'observer' });
    expect(await identity('ops', 'ops', 'operator-secret')).toMatchObject({ role: 'operator' });
  });

  it('authenticates a verified client certificate by its common name', () => {
    expect(access.authenticateCertificate('cnc-007', 'cnc-007')).toMatchObject({ ok: true });
    expect(access.authenticateCertificate('cnc-007', 'cnc-007', 'cnc-008')).toMatchObject({
      ok: false,
      refusal: { returnCode: 4 },
    });
    expect(access.authenticateCertificate('x', 'plc-1')).toMatchObject({
      ok: false,
      refusal: { returnCode: 2 },
    });
  });
});

describe('authorisation', () => {
  const own = 'parks/science-city/gz-auto-parts/cnc_machine/cnc-001';

  it('lets a device publish only under its own id, within its enrolment, never on its cmd', async () => {
    const cnc = await identity('cnc-001', 'cnc-001', deriveDeviceKey(GROUP_KEY, 'cnc-001'));
    for (const channel of ['telemetry', 'status', 'event'])
      expect(access.mayPublish(cnc, `${own}/${channel}`)).toBe(true);
    // Misspelt channels and extra levels under its own path: let through, to become dead letters
    // with their reason (closing the connection would leave firmware resending for ever).
    for (const channel of ['telemetri', 'TELEMETRY', 'telemetry/extra', 'telemetry/', 'cmd/x'])
      expect(access.mayPublish(cnc, `${own}/${channel}`), channel).toBe(true);
    expect(
      access.mayPublish(cnc, 'parks/science-city/robotics-works/cnc_machine/cnc-001/telemetry'),
    ).toBe(true);
    for (const topic of [
      `${own}/cmd`, // down channel
      `${own}`, // no channel
      'parks/science-city/gz-auto-parts/cnc_machine/cnc-002/telemetry', // another device
      'parks/science-city/other-site/cnc_machine/cnc-001/telemetry', // site not enrolled
      'parks/science-city/gz-auto-parts/agv/cnc-001/telemetry', // asset type not enrolled
      'parks/yuzhu/gz-auto-parts/cnc_machine/cnc-001/telemetry', // park not enrolled
      'parks/science-city/gz-auto-parts/cnc_machine/telemetry',
      '$parkpulse/dead-letters/x',
    ])
      expect(access.mayPublish(cnc, topic), topic).toBe(false);
  });

  it('lets a device subscribe only to its own cmd', async () => {
    const cnc = await identity('cnc-001', 'cnc-001', deriveDeviceKey(GROUP_KEY, 'cnc-001'));
    expect(access.maySubscribe(cnc, `${own}/cmd`)).toBe(true);
    for (const filter of [
      'parks/#',
      '#',
      `${own}/#`,
      `${own}/+`,
      `${own}/telemetry`,
      'parks/science-city/gz-auto-parts/cnc_machine/+/cmd',
      'parks/science-city/gz-auto-parts/cnc_machine/cnc-002/cmd',
      'parks/+/gz-auto-parts/cnc_machine/cnc-001/cmd',
      '$SYS/#',
      // The broker's notices (its own connection's included) are for watchers, not devices.
      '$parkpulse/#',
      '$parkpulse/connections/#',
      '$parkpulse/connections/cnc-001',
      '$parkpulse/connections/cnc-002',
      '$parkpulse/command-deliveries/cnc-001',
    ])
      expect(access.maySubscribe(cnc, filter), filter).toBe(false);
    expect(access.mayReceive(cnc, '$parkpulse/connections/cnc-002')).toBe(false);
  });

  it("keeps $parkpulse/… the broker's own: no device and no role publishes there", async () => {
    const cnc = await identity('cnc-001', 'cnc-001', deriveDeviceKey(GROUP_KEY, 'cnc-001'));
    const ing = await identity('parkpulse-ingestion', 'parkpulse-ingestion', 'ingestion-secret');
    const obs = await identity('parkpulse-observer', 'parkpulse-observer', 'observer-secret');
    const ops = await identity('ops', 'ops', 'operator-secret');
    const svc = await identity('parkpulse-operations', 'parkpulse-operations', 'operations-secret');
    for (const topic of [
      '$parkpulse/connections/cnc-001',
      '$parkpulse/connections/cnc-002',
      '$parkpulse/command-deliveries/cnc-001',
    ]) {
      for (const who of [cnc, ing, obs, ops, svc])
        expect(access.mayPublish(who, topic), topic).toBe(false);
    }
    // The ingestion publishes the dead letters, nothing else of the broker's tree.
    expect(access.mayPublish(cnc, '$parkpulse/dead-letters/x')).toBe(false);
  });

  it('lets the observer and the operator, and only them, read the connection notices', async () => {
    const obs = await identity('parkpulse-observer', 'parkpulse-observer', 'observer-secret');
    const ops = await identity('ops', 'ops', 'operator-secret');
    const ing = await identity('parkpulse-ingestion', 'parkpulse-ingestion', 'ingestion-secret');
    const svc = await identity('parkpulse-operations', 'parkpulse-operations', 'operations-secret');
    for (const reader of [obs, ops]) {
      expect(access.maySubscribe(reader, '$parkpulse/connections/#')).toBe(true);
      expect(access.maySubscribe(reader, '$parkpulse/connections/cnc-001')).toBe(true);
      expect(access.mayReceive(reader, '$parkpulse/connections/cnc-001')).toBe(true);
      // Not the whole tree: only what the roles list.
      expect(access.maySubscribe(reader, '$parkpulse/#')).toBe(false);
    }
    for (const other of [ing, svc]) {
      expect(access.maySubscribe(other, '$parkpulse/connections/#')).toBe(false);
      expect(access.maySubscribe(other, '$parkpulse/connections/cnc-001')).toBe(false);
      expect(access.mayReceive(other, '$parkpulse/connections/cnc-001')).toBe(false);
    }
  });

  it('gives service accounts their role: ingestion dead letters, observer and operator read', async () => {
    const ing = await identity('parkpulse-ingestion', 'parkpulse-ingestion', 'ingestion-secret');
    const obs = await identity('parkpulse-observer', 'parkpulse-observer', 'observer-secret');
    const ops = await identity('ops', 'ops', 'operator-secret');
    // Device messages reach the ingestion over the broker's ingest link, not by subscription.
    expect(access.maySubscribe(ing, 'parks/#')).toBe(false);
    expect(access.mayPublish(ing, '$parkpulse/dead-letters/parks/a/b/c/d/telemetry')).toBe(true);
    expect(access.mayPublish(ing, `${own}/telemetry`)).toBe(false);
    expect(access.maySubscribe(obs, 'parks/science-city/+/cnc_machine/#')).toBe(true);
    expect(access.maySubscribe(obs, '$parkpulse/dead-letters/#')).toBe(true);
    expect(access.maySubscribe(obs, '#')).toBe(false);
    expect(access.mayPublish(obs, `${own}/cmd`)).toBe(false);
    // Commands go through the operations service (validated, audited), never straight from a person.
    expect(access.mayPublish(ops, `${own}/cmd`)).toBe(false);
    expect(access.mayPublish(ops, `${own}/telemetry`)).toBe(false);
    expect(access.maySubscribe(ops, 'parks/science-city/+/cnc_machine/#')).toBe(true);
  });

  it('gives the operations service exactly what commands and alarms need', async () => {
    const svc = await identity('parkpulse-operations', 'parkpulse-operations', 'operations-secret');
    expect(access.mayPublish(svc, `${own}/cmd`)).toBe(true);
    expect(access.maySubscribe(svc, 'parks/+/+/+/+/status')).toBe(true);
    expect(access.maySubscribe(svc, 'parks/+/+/+/+/cmd_result')).toBe(true);
    expect(access.maySubscribe(svc, '$parkpulse/command-deliveries/#')).toBe(true);
    expect(access.mayReceive(svc, '$parkpulse/command-deliveries/cnc-001')).toBe(true);
    // Alarms: telemetry and events of every device, read only.
    expect(access.maySubscribe(svc, 'parks/+/+/+/+/telemetry')).toBe(true);
    expect(access.maySubscribe(svc, 'parks/+/+/+/+/event')).toBe(true);
    expect(access.mayReceive(svc, `${own}/telemetry`)).toBe(true);
    expect(access.mayReceive(svc, `${own}/event`)).toBe(true);
    for (const topic of [
      `${own}/telemetry`,
      `${own}/event`,
      `${own}/cmd_result`,
      '$parkpulse/dead-letters/x',
    ])
      expect(access.mayPublish(svc, topic), topic).toBe(false);
    for (const filter of ['parks/#', 'parks/+/+/+/+/+', '#', '$SYS/#', '$parkpulse/dead-letters/#'])
      expect(access.maySubscribe(svc, filter), filter).toBe(false);
    expect(access.mayReceive(svc, '$parkpulse/dead-letters/x')).toBe(false);
  });

  it('lets a device answer commands on its own cmd_result only', async () => {
    const cnc = await identity('cnc-001', 'cnc-001', deriveDeviceKey(GROUP_KEY, 'cnc-001'));
    expect(access.mayPublish(cnc, `${own}/cmd_result`)).toBe(true);
    expect(
      access.mayPublish(cnc, 'parks/science-city/robotics-works/cnc_machine/cnc-002/cmd_result'),
    ).toBe(false);
  });
});

describe('topic filters', () => {
  it('matches topics as MQTT does, $-topics excepted from leading wildcards', () => {
    expect(topicMatches('parks/#', 'parks/a/b')).toBe(true);
    expect(topicMatches('parks/+/b', 'parks/a/b')).toBe(true);
    expect(topicMatches('parks/+', 'parks/a/b')).toBe(false);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/x')).toBe(true);
  });

  it('covers a requested filter only when every topic it matches is allowed', () => {
    expect(filterCovers('parks/#', 'parks/+/x/#')).toBe(true);
    expect(filterCovers('parks/+/+/+/+/cmd', 'parks/a/b/c/d/cmd')).toBe(true);
    expect(filterCovers('parks/+/+/+/+/cmd', 'parks/a/b/c/+/cmd')).toBe(true);
    expect(filterCovers('parks/+/+/+/+/cmd', 'parks/a/b/c/#')).toBe(false);
    expect(filterCovers('parks/a/#', 'parks/+/b')).toBe(false);
    expect(filterCovers('$SYS/#', '#')).toBe(false);
  });
});

describe('no identity can take over another', () => {
  it('never lets a device id be a service account client id', async () => {
    const openGroup = new AccessControl(
      parseRegistry(
        `version: 1
groups: [{ id: all, keyEnv: K, parks: '*', sites: '*', assetTypes: '*' }]
services: [{ id: parkpulse-observer, role: observer, secretEnv: OBS }]`,
        { K: GROUP_KEY, OBS: 'o' },
      ),
    );
    const as = (id: string) => openGroup.authenticate(id, id, deriveDeviceKey(GROUP_KEY, id));
    // The account's own name is the account: a device key is a wrong secret for it.
    expect(await as('parkpulse-observer')).toMatchObject({ ok: false, refusal: { returnCode: 4 } });
    expect(await as('parkpulse-observer-dash')).toMatchObject({
      ok: false,
      refusal: { returnCode: 2, reason: 'client_id_invalid' },
    });
  });

  it('accepts only the key of the first group that covers an id', async () => {
    const overlapping = new AccessControl(
      parseRegistry(
        `version: 1
groups:
  - { id: first, keyEnv: A, parks: [science-city], sites: '*', assetTypes: '*', devicePattern: 'cnc-.*' }
  - { id: second, keyEnv: B, parks: '*', sites: '*', assetTypes: '*' }`,
        { A: GROUP_KEY, B: OTHER_KEY },
      ),
    );
    expect(
      await overlapping.authenticate('cnc-1', 'cnc-1', deriveDeviceKey(OTHER_KEY, 'cnc-1')),
    ).toMatchObject({ ok: false, refusal: { returnCode: 4 } });
    expect(
      await overlapping.authenticate('cnc-1', 'cnc-1', deriveDeviceKey(GROUP_KEY, 'cnc-1')),
    ).toMatchObject({ ok: true, identity: { via: 'first' } });
    expect(
      await overlapping.authenticate('agv-1', 'agv-1', deriveDeviceKey(OTHER_KEY, 'agv-1')),
    ).toMatchObject({ ok: true, identity: { via: 'second' } });
  });

  it('does not let a client certificate stand for a service account', () => {
    expect(
      access.authenticateCertificate('parkpulse-observer', 'parkpulse-observer'),
    ).toMatchObject({
      ok: false,
      refusal: { returnCode: 4 },
    });
  });

  it('revokes on reload: a rotated group key, a removed device, a narrowed scope', async () => {
    const cnc = await identity('cnc-001', 'cnc-001', deriveDeviceKey(GROUP_KEY, 'cnc-001'));
    const ulf = await identity('ulf-001', 'ulf-001', ULF_KEY);
    const obs = await identity('parkpulse-observer', 'parkpulse-observer', 'observer-secret');
    expect([cnc, ulf, obs].map((i) => access.stillValid(i))).toEqual([true, true, true]);
    const rotated = new AccessControl(
      parseRegistry(REGISTRY.replace(/^devices:\n.*\n/m, 'devices: []\n'), {
        ...ENV,
        SC_KEY: newGroupKey(),
        OBS: 'a-new-observer-secret',
      }),
    );
    expect([cnc, ulf, obs].map((i) => rotated.stillValid(i))).toEqual([false, false, false]);
    const narrowed = new AccessControl(
      parseRegistry(
        REGISTRY.replace('sites: [gz-auto-parts, robotics-works]', 'sites: [gz-auto-parts]'),
        ENV,
      ),
    );
    expect([cnc, ulf, obs].map((i) => narrowed.stillValid(i))).toEqual([false, true, true]);
  });

  it('delivers to a device only its own cmd, to a service only what its role reads', async () => {
    const cnc = await identity('cnc-001', 'cnc-001', deriveDeviceKey(GROUP_KEY, 'cnc-001'));
    const obs = await identity('parkpulse-observer', 'parkpulse-observer', 'observer-secret');
    const own = 'parks/science-city/gz-auto-parts/cnc_machine/cnc-001';
    expect(access.mayReceive(cnc, `${own}/cmd`)).toBe(true);
    expect(access.mayReceive(cnc, `${own}/telemetry`)).toBe(false);
    expect(access.mayReceive(cnc, 'parks/science-city/gz-auto-parts/cnc_machine/cnc-002/cmd')).toBe(
      false,
    );
    expect(access.mayReceive(obs, `${own}/telemetry`)).toBe(true);
    expect(access.mayReceive(obs, 'private/x')).toBe(false);
  });
});
