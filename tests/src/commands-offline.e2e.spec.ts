import type { CommandView } from '@parkpulse/commands';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandDevice } from './support/command-device.js';
import { startOperations, type Operations } from './support/operations.js';
import { startPlatform, type Platform } from './support/platform.js';

/** A device that is offline when the command is sent: delivered when it comes back, or expired. */
describe('commands to offline devices', () => {
  let platform: Platform;
  let ops: Operations;
  let light: CommandDevice;

  beforeAll(async () => {
    platform = await startPlatform();
    ops = await startOperations(platform, 'sqlite');
    light = new CommandDevice(
      {
        park: 'knowledge-city',
        site: 'hub-2',
        assetType: 'street_light',
        deviceId: 'sl-offline-1',
      },
      platform.mqttUrl,
    );
    await light.connect();
    await ops.waitForDevices([light.deviceId]);
    await light.disconnect();
  });

  afterAll(async () => {
    await light?.disconnect();
    await ops?.stop();
    await platform?.stop();
  });

  const send = async (params: object, ttlS: number, deviceId = light.deviceId) => {
    const r = await ops.api<CommandView>(
      'POST',
      `/api/v1/devices/${deviceId}/commands`,
      ops.tokens.operator,
      {
        name: 'dim',
        params,
        ttlS,
      },
    );
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    return r.body;
  };

  it('holds a command while the device is offline and delivers it when the device connects', async () => {
    await waitOffline();
    const cmd = await send({ level_pct: 25 }, 120);
    // Offline: the service holds it; nothing was published.
    const held = await ops.api<CommandView>('GET', `/api/v1/commands/${cmd.id}`, ops.tokens.viewer);
    expect(held.body.state).toBe('queued');
    expect(light.received).toEqual([]);
    await light.connect();
    const done = await ops.waitForCommand(
      cmd.id,
      (c) => c.state === 'done',
      'done after the reconnect',
    );
    expect(done.history.map((h) => h.state)).toEqual([
      'queued',
      'sent',
      'delivered',
      'accepted',
      'done',
    ]);
    expect(light.received.map((c) => c.id)).toEqual([cmd.id]);
    expect(light.received[0]).toMatchObject({ name: 'dim', params: { level_pct: 25 } });
    await light.disconnect();
  });

  it('records the delivery once when the device answers before its PUBACK', async () => {
    await waitOffline();
    light.behaviour = 'done-before-puback';
    await light.connect();
    try {
      await ops.waitForDevices([light.deviceId]);
      const cmd = await send({ level_pct: 70 }, 60);
      const done = await ops.waitForCommand(cmd.id, (c) => c.state === 'done', 'done');
      // The broker's notice of the PUBACK comes after the answer: it changes nothing.
      await new Promise((r) => setTimeout(r, 500));
      const final = await ops.api<CommandView>(
        'GET',
        `/api/v1/commands/${cmd.id}`,
        ops.tokens.viewer,
      );
      expect(final.body.history.map((h) => h.state)).toEqual([
        'queued',
        'sent',
        'delivered',
        'done',
      ]);
      expect(done.state).toBe('done');
    } finally {
      light.behaviour = 'done';
      await light.disconnect();
    }
  });

  it('tracks a device on a persistent session (clean: false) from sent to done, across a reconnect', async () => {
    const sleeper = new CommandDevice(
      {
        park: 'knowledge-city',
        site: 'hub-2',
        assetType: 'street_light',
        deviceId: 'sl-persist-1',
      },
      platform.mqttUrl,
      // PUBACK only: `delivered` can come from nothing but the broker's notice of that PUBACK.
      'silent',
      true,
      false,
    );
    try {
      for (const level of [30, 45]) {
        await sleeper.connect();
        await ops.waitForDevices([sleeper.deviceId]);
        const cmd = await send({ level_pct: level }, 60, sleeper.deviceId);
        const delivered = await ops.waitForCommand(
          cmd.id,
          (c) => c.state === 'delivered',
          'delivered',
        );
        expect(delivered.history.at(-1)?.by).toBe('broker');
        await sleeper.answer(cmd.id, 'done', { dimming_pct: level });
        const done = await ops.waitForCommand(cmd.id, (c) => c.state === 'done', 'done');
        expect(done.history.map((h) => h.state)).toEqual(['queued', 'sent', 'delivered', 'done']);
        await sleeper.disconnect();
      }
      expect(sleeper.received.map((c) => c.params)).toEqual([{ level_pct: 30 }, { level_pct: 45 }]);
    } finally {
      await sleeper.disconnect();
    }
  });

  it('expires a command whose device stays offline past its deadline, and never sends it after', async () => {
    await waitOffline();
    const cmd = await send({ level_pct: 60 }, 2);
    const expired = await ops.waitForCommand(cmd.id, (c) => c.state === 'expired', 'expired');
    expect(expired.history.map((h) => h.state)).toEqual(['queued', 'expired']);
    expect(expired.history.at(-1)).toMatchObject({
      by: 'system',
      detail: 'the device stayed offline until the deadline',
    });
    expect(Date.parse(expired.history.at(-1)!.at)).toBeGreaterThanOrEqual(
      Date.parse(expired.expiresAt),
    );
    // Back online, the device gets the next command and never the expired one.
    const before = light.received.length;
    await light.connect();
    const next = await send({ level_pct: 70 }, 60);
    await ops.waitForCommand(next.id, (c) => c.state === 'done', 'done');
    expect(light.received.slice(before).map((c) => c.id)).toEqual([next.id]);
    await light.disconnect();
  });

  async function waitOffline(): Promise<void> {
    // The device's `offline` reached the service when its listing says so.
    for (let i = 0; i < 100; i++) {
      const r = await ops.api<{ devices: { deviceId: string; online: boolean }[] }>(
        'GET',
        '/api/v1/devices',
        ops.tokens.viewer,
      );
      if (r.body.devices.some((d) => d.deviceId === light.deviceId && !d.online)) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('the device never went offline');
  }
});
