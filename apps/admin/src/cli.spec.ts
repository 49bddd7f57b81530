import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AccessControl, deriveDeviceKey, newGroupKey, parseRegistry } from '@parkpulse/access';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from './cli.js';

const DEV_REGISTRY = resolve(import.meta.dirname, '../../../deploy/registry/registry.yaml');
const GROUP_KEY = newGroupKey();
const ENV = {
  PARKPULSE_DEV_GROUP_KEY: GROUP_KEY,
  PARKPULSE_INGESTION_SECRET: 'i',
  PARKPULSE_OBSERVER_SECRET: 'o',
  PARKPULSE_OPERATOR_SECRET: 'p',
  PARKPULSE_OPERATIONS_SECRET: 's',
};

describe('parkpulse-admin', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parkpulse-admin-'));
    file = join(dir, 'registry.yaml');
    copyFileSync(DEV_REGISTRY, file);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function run(args: string[], stdin = '', env: NodeJS.ProcessEnv = ENV) {
    let out = '';
    const code = main([...args, '--registry', file], {
      env,
      out: (t) => (out += t),
      readStdin: () => stdin,
    });
    return { code, out };
  }

  it('issues the derived key of a group device', () => {
    const { code, out } = run(['issue-key', '--group', 'dev-fleet', '--device', 'cnc-0042']);
    expect(code).toBe(0);
    expect(out.trim()).toBe(deriveDeviceKey(GROUP_KEY, 'cnc-0042'));
    expect(run(['issue-key', '--group', 'nope', '--device', 'x'])).toMatchObject({ code: 1 });
    expect(run(['issue-key', '--group', 'dev-fleet', '--device', 'x'], '', {})).toMatchObject({
      code: 1,
      out: expect.stringContaining('PARKPULSE_DEV_GROUP_KEY'),
    });
    expect(run(['issue-key', '--group', 'dev-fleet'])).toMatchObject({ code: 2 });
  });

  it('adds a device with a new key that the broker then accepts, keeping the comments', async () => {
    const { code, out } = run([
      'add-device',
      '--id',
      'ulf-7',
      '--park',
      'bio-island',
      '--site',
      'bsl-3',
      '--asset-type',
      'ultra_low_freezer',
    ]);
    expect(code).toBe(0);
    const key = /key \(shown once\): (\S+)/.exec(out)?.[1] ?? '';
    expect(key.length).toBeGreaterThanOrEqual(32);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(key);
    expect(text).toContain('# Individually registered devices');
    const access = new AccessControl(parseRegistry(text, ENV));
    expect(await access.authenticate('ulf-7', 'ulf-7', key)).toMatchObject({
      ok: true,
      identity: { via: 'registered', parks: ['bio-island'], sites: ['bsl-3'] },
    });
    expect(await access.authenticate('ulf-7', 'ulf-7', `${key}x`)).toMatchObject({ ok: false });

    // A second device is appended; a duplicate or an unknown park is refused, the file unchanged.
    const args = (id: string, park = 'yuzhu') => [
      'add-device',
      '--id',
      id,
      '--park',
      park,
      '--site',
      'b1',
      '--asset-type',
      'building_hvac',
      '--key',
      'k'.repeat(20),
    ];
    expect(run(args('bldg-1')).code).toBe(0);
    const before = readFileSync(file, 'utf8');
    expect(run(args('bldg-1'))).toMatchObject({ code: 1, out: expect.stringContaining('already') });
    expect(run(args('bldg-2', 'atlantis'))).toMatchObject({ code: 1 });
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect([...parseRegistry(before, ENV).devices.keys()]).toEqual(['ulf-7', 'bldg-1']);
  });

  it('hashes a secret from stdin, makes group keys, checks the registry', () => {
    const hashed = run(['hash-secret'], 'a-long-service-secret\n');
    expect(hashed.out).toMatch(/^scrypt\$/);
    expect(run(['hash-secret'], 'short').code).toBe(1);
    expect(Buffer.from(run(['new-group-key']).out.trim(), 'base64')).toHaveLength(32);
    expect(run(['check'])).toMatchObject({ code: 0, out: expect.stringContaining('4 service') });
    expect(run(['check'], '', {})).toMatchObject({ code: 1 });
    expect(run(['frobnicate']).code).toBe(2);
  });
});
