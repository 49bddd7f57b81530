import type { CommandState, CommandView } from '@parkpulse/commands';
import { isTerminal } from '@parkpulse/commands';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandDevice } from './support/command-device.js';
import { startOperations, type Operations } from './support/operations.js';
import { startPlatform, type Platform } from './support/platform.js';

/**
 * kill -9 of the operations service with commands in every state: after the restart each one
 * is still there and ends where it should — none lost, none stuck in `sent` or anywhere else.
 */
describe.each(['sqlite', 'postgres'] as const)('operations service killed (%s)', (database) => {
  let platform: Platform;
  let ops: Operations;
  const devices: CommandDevice[] = [];
  const device = (deviceId: string, behaviour: CommandDevice['behaviour'], subscribe = true) => {
    const d = new CommandDevice(
      { park: 'yuzhu', site: 'tower-b', assetType: 'building_hvac', deviceId },
      platform.mqttUrl,
      behaviour,
      subscribe,
    );
    devices.push(d);
    return d;
  };

  beforeAll(async () => {
    platform = await startPlatform();
    ops = await startOperations(platform, database, { REDELIVER_AFTER_MS: '3000' });
  });

  afterAll(async () => {
    for (const d of devices) await d.disconnect().catch(() => undefined);
    await ops?.stop();
    await platform?.stop();
  });

  it('resumes or expires every command in flight, and loses none', async () => {
    const offline = device(`ahu-${database}-offline`, 'done');
    const unsubscribed = device(`ahu-${database}-nosub`, 'done', false);
    const silent = device(`ahu-${database}-silent`, 'silent');
    const accepting = device(`ahu-${database}-accepting`, 'accept-only');
    const answering = device(`ahu-${database}-answering`, 'done');
    // PUBACK only; the test answers for it (failed, rejected).
    const refusing = device(`ahu-${database}-refusing`, 'silent');
    for (const d of devices) await d.connect();
    await ops.waitForDevices(devices.map((d) => d.deviceId));
    await offline.disconnect();

    const send = async (d: CommandDevice, ttlS: number, setpoint = 18) => {
      const r = await ops.api<CommandView>(
        'POST',
        `/api/v1/devices/${d.deviceId}/commands`,
        ops.tokens.operator,
        {
          name: 'set_supply_setpoint',
          params: { setpoint_c: setpoint },
          ttlS,
        },
      );
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      return r.body.id;
    };
    const reach = (id: string, state: CommandState) =>
      ops.waitForCommand(id, (c) => c.state === state, state);

    const done = await send(answering, 120);
    await reach(done, 'done');
    const failed = await send(refusing, 120);
    await reach(failed, 'delivered');
    await refusing.answer(failed, 'failed', { supply_air_setpoint_c: 21 });
    await reach(failed, 'failed');
    const rejected = await send(refusing, 120, 17);
    await reach(rejected, 'delivered');
    await refusing.answer(rejected, 'rejected');
    await reach(rejected, 'rejected');
    const expiredBefore = await send(offline, 1, 21);
    await reach(expiredBefore, 'expired');
    const accepted = await send(accepting, 120);
    await reach(accepted, 'accepted');
    const delivered = await send(silent, 30);
    await reach(delivered, 'delivered');
    const sent = await send(unsubscribed, 120);
    await reach(sent, 'sent');
    const cancelled = await send(offline, 120, 19);
    expect(
      (await ops.api('POST', `/api/v1/commands/${cancelled}/cancel`, ops.tokens.operator)).status,
    ).toBe(200);
    const queued = await send(offline, 120);
    const expiring = await send(offline, 2, 20);
    const before = new Map<string, CommandView>();
    const ids = [
      done,
      failed,
      rejected,
      expiredBefore,
      accepted,
      delivered,
      sent,
      cancelled,
      queued,
    ];
    for (const id of [...ids, expiring])
      before.set(
        id,
        (await ops.api<CommandView>('GET', `/api/v1/commands/${id}`, ops.tokens.viewer)).body,
      );
    expect([...before.values()].map((c) => c.state)).toEqual([
      'done',
      'failed',
      'rejected',
      'expired',
      'accepted',
      'delivered',
      'sent',
      'cancelled',
      'queued',
      'queued',
    ]);

    await ops.kill();
    // While it is down: a device finishes its work, and a deadline passes.
    await accepting.answer(accepted, 'done', { supply_air_setpoint_c: 18 });
    const deadline = Date.parse(before.get(expiring)!.expiresAt);
    while (Date.now() <= deadline) await new Promise((r) => setTimeout(r, 100));
    await ops.start();

    // The answer sent while it was down waited in its persistent session.
    const finished = await reach(accepted, 'done');
    expect(finished.history.at(-1)).toMatchObject({ by: `device:${accepting.deviceId}` });
    const expired = await reach(expiring, 'expired');
    expect(expired.history.at(-1)!.detail).toBe('the device stayed offline until the deadline');
    // Published but never confirmed: published again once the device can take it.
    await unsubscribed.subscribeNow();
    const redelivered = await reach(sent, 'done');
    expect(redelivered.history.filter((h) => h.state === 'sent').length).toBeGreaterThanOrEqual(2);
    // Held for an offline device: delivered when it connects.
    await offline.connect();
    await reach(queued, 'done');
    // Delivered, then silence: expires at its deadline, saying so.
    const lapsed = await reach(delivered, 'expired');
    expect(lapsed.history.at(-1)!.detail).toBe(
      'delivered, but the device did not answer before the deadline',
    );

    const after = await Promise.all(
      [...before.keys()].map(
        async (id) =>
          (await ops.api<CommandView>('GET', `/api/v1/commands/${id}`, ops.tokens.viewer)).body,
      ),
    );
    expect(after.every((c) => isTerminal(c.state))).toBe(true);
    expect(after.map((c) => c.state)).toEqual([
      'done',
      'failed',
      'rejected',
      'expired',
      'done',
      'expired',
      'done',
      'cancelled',
      'done',
      'expired',
    ]);
    // What had ended before the kill is untouched: same state, same history.
    for (const c of after.slice(0, 4)) expect(c.history, c.id).toEqual(before.get(c.id)!.history);
    // The cancelled command never reached the device; the others each reached it.
    expect(offline.received.map((c) => c.id)).toEqual([queued]);
  });
});
