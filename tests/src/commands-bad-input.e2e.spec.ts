import type { CommandView } from '@parkpulse/commands';
import { metricValue, waitFor } from '@parkpulse/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandDevice } from './support/command-device.js';
import { startOperations, type Operations } from './support/operations.js';
import { startPlatform, type Platform } from './support/platform.js';

/** Bad requests get a clear 4xx; bad answers from devices are refused and counted; no device gets what it should not. */
describe('commands: bad input', () => {
  let platform: Platform;
  let ops: Operations;
  let machine: CommandDevice;
  let other: CommandDevice;

  beforeAll(async () => {
    platform = await startPlatform();
    ops = await startOperations(platform, 'sqlite');
    machine = new CommandDevice(
      { park: 'science-city', site: 'cell-2', assetType: 'cnc_machine', deviceId: 'cnc-bad-1' },
      platform.mqttUrl,
      'silent',
    );
    other = new CommandDevice(
      { park: 'science-city', site: 'cell-2', assetType: 'cnc_machine', deviceId: 'cnc-bad-2' },
      platform.mqttUrl,
      'silent',
    );
    await machine.connect();
    await other.connect();
    await ops.waitForDevices([machine.deviceId, other.deviceId]);
  });

  afterAll(async () => {
    await machine?.disconnect();
    await other?.disconnect();
    await ops?.stop();
    await platform?.stop();
  });

  const post = (path: string, token: string | undefined, body: unknown) =>
    ops.api<{ error: string; message: string }>('POST', path, token, body);
  const to = (id: string) => `/api/v1/devices/${id}/commands`;

  it.each([
    ['an unknown command', { name: 'self_destruct' }, 422, 'unknown_command'],
    ['an unknown parameter', { name: 'stop', params: { force: 1 } }, 422, 'param_unknown'],
    ['a body that is not a command', { command: 'stop' }, 400, 'invalid_request'],
    ['a deadline beyond the limit', { name: 'stop', ttlS: 10_000_000 }, 400, 'invalid_request'],
  ] as const)('refuses %s', async (_what, body, status, error) => {
    const r = await post(to(machine.deviceId), ops.tokens.operator, body);
    expect(r.status).toBe(status);
    expect(r.body.error).toBe(error);
    expect(r.body.message.length).toBeGreaterThan(0);
  });

  it('refuses a parameter out of its range, naming the range', async () => {
    const lights = await post('/api/v1/commands', ops.tokens.operator, {
      selector: { park: 'science-city', assetType: 'street_light' },
      name: 'dim',
      params: { level_pct: 50 },
    });
    expect(lights.status).toBe(404);
    expect(lights.body.error).toBe('no_devices');
    const hvac = new CommandDevice(
      { park: 'yuzhu', site: 'tower-c', assetType: 'building_hvac', deviceId: 'ahu-bad-1' },
      platform.mqttUrl,
      'silent',
    );
    await hvac.connect();
    try {
      await ops.waitForDevices([hvac.deviceId]);
      const r = await post(to(hvac.deviceId), ops.tokens.operator, {
        name: 'set_supply_setpoint',
        params: { setpoint_c: 45 },
      });
      expect(r.status).toBe(422);
      expect(r.body).toMatchObject({
        error: 'param_out_of_range',
        message: 'setpoint_c = 45 is outside [12, 30] celsius',
      });
      const wrongType = await post(to(hvac.deviceId), ops.tokens.operator, {
        name: 'set_supply_setpoint',
        params: { setpoint_c: 'cold' },
      });
      expect(wrongType.body.error).toBe('param_wrong_type');
      expect(hvac.received).toEqual([]);
    } finally {
      await hvac.disconnect();
    }
  });

  it('refuses an unknown device (404), a viewer (403), no token and a bad token (401)', async () => {
    expect((await post(to('cnc-nobody'), ops.tokens.operator, { name: 'stop' })).body.error).toBe(
      'unknown_device',
    );
    const viewer = await post(to(machine.deviceId), ops.tokens.viewer, { name: 'stop' });
    expect(viewer.status).toBe(403);
    expect(viewer.body.error).toBe('forbidden');
    const anonymous = await post(to(machine.deviceId), undefined, { name: 'stop' });
    expect(anonymous.status).toBe(401);
    const forged = await post(to(machine.deviceId), 'A'.repeat(43), { name: 'stop' });
    expect(forged.status).toBe(401);
    expect((await ops.api('GET', `/api/v1/devices/${machine.deviceId}/commands`)).status).toBe(401);
    expect(
      (await ops.api('GET', `/api/v1/devices/${machine.deviceId}/commands`, ops.tokens.viewer))
        .status,
    ).toBe(200);
    expect(
      (
        await post('/api/v1/users', ops.tokens.operator, {
          username: 'mallory',
          password: 'long-enough-pw',
          role: 'admin',
        })
      ).status,
    ).toBe(403);
    expect(
      (await post('/api/v1/auth/tokens', undefined, { username: 'olga', password: 'wrong' }))
        .status,
    ).toBe(401);
    // Nothing of the above reached the device.
    expect(machine.received).toEqual([]);
  });

  it('refuses and counts results for a command the device never got, or that was sent to another device', async () => {
    const refused = (reason: string) =>
      metricValue(
        ops.url,
        'parkpulse_operations_results_refused_total',
        `{kind="result",reason="${reason}"}`,
      );
    const r = await post(to(machine.deviceId), ops.tokens.operator, { name: 'stop' });
    expect(r.status).toBe(202);
    const id = (r.body as unknown as CommandView).id;
    await ops.waitForCommand(id, (c) => c.state === 'delivered', 'delivered');

    // Another device answers for it, on its own topic (the broker lets it publish only there).
    await other.answer(id, 'done');
    await waitFor('wrong_device counted', async () => (await refused('wrong_device')) === 1);
    // A device answers a command nobody sent.
    await machine.answer('cmd-never-sent', 'done');
    await waitFor('unknown_command counted', async () => (await refused('unknown_command')) === 1);
    // A payload off the contract.
    await machine.answer(id, 'finished');
    await waitFor('invalid counted', async () => (await refused('invalid')) === 1);
    expect(
      (await ops.api<CommandView>('GET', `/api/v1/commands/${id}`, ops.tokens.viewer)).body.state,
    ).toBe('delivered');

    // The right device answers: taken. A repeat is harmless; an answer after the end is refused.
    await machine.answer(id, 'done', { state: 'idle' });
    await ops.waitForCommand(id, (c) => c.state === 'done', 'done');
    await machine.answer(id, 'done');
    await machine.answer(id, 'failed');
    await waitFor('not_pending counted', async () => (await refused('not_pending')) === 1);
    const final = (await ops.api<CommandView>('GET', `/api/v1/commands/${id}`, ops.tokens.viewer))
      .body;
    expect(final.state).toBe('done');
    expect(final.history.filter((h) => h.state === 'done').length).toBe(1);
    expect(other.received).toEqual([]);
  });

  it('cancels a queued command only', async () => {
    await other.disconnect();
    await waitFor('offline', async () => {
      const r = await ops.api<{ devices: { deviceId: string; online: boolean }[] }>(
        'GET',
        '/api/v1/devices',
        ops.tokens.viewer,
      );
      return r.body.devices.some((d) => d.deviceId === other.deviceId && !d.online);
    });
    const queued = (await post(to(other.deviceId), ops.tokens.operator, { name: 'stop' }))
      .body as unknown as CommandView;
    expect(
      (await ops.api('POST', `/api/v1/commands/${queued.id}/cancel`, ops.tokens.viewer)).status,
    ).toBe(403);
    const c = await ops.api<CommandView>(
      'POST',
      `/api/v1/commands/${queued.id}/cancel`,
      ops.tokens.operator,
    );
    expect(c.status).toBe(200);
    expect(c.body.history.at(-1)).toMatchObject({ state: 'cancelled', by: 'olga' });
    const again = await ops.api<{ error: string }>(
      'POST',
      `/api/v1/commands/${queued.id}/cancel`,
      ops.tokens.operator,
    );
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('not_cancellable');
    expect((await ops.api('GET', '/api/v1/commands/no-such-id', ops.tokens.viewer)).status).toBe(
      404,
    );
    await other.connect();
  });
});
