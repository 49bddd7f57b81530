import { deviceCredentials, waitFor } from '@parkpulse/dev-services';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOperations, type Operations } from './support/operations.js';
import { startPlatform, type Platform } from './support/platform.js';

interface AlarmBody {
  id: string;
  state: string;
  active: boolean;
  activation: number;
  updatedAt: string;
  shelf: { until: string; by: string; reason: string } | null;
  outOfService: { by: string; reason: string } | null;
  history: { action: string; by: string; comment: string; fromState: string; toState: string }[];
}

interface ErrorBody {
  error: string;
  message: string;
}

type Address = { site: string; assetType: 'ultra_low_freezer' | 'bsl_laboratory' };
const FREEZERS: Address = { site: 'sample-store', assetType: 'ultra_low_freezer' };
const LABS: Address = { site: 'bsl3-suite', assetType: 'bsl_laboratory' };

/** A Bio Island device on MQTT.js, announcing itself and publishing telemetry as the contract says. */
async function device(url: string, where: Address, deviceId: string) {
  const login = deviceCredentials(deviceId);
  const base = `parks/bio-island/${where.site}/${where.assetType}/${deviceId}`;
  const client: MqttClient = await mqtt.connectAsync(url, {
    clientId: login.clientId,
    username: login.username,
    password: login.password,
    clean: true,
    reconnectPeriod: 0,
  });
  await client.publishAsync(`${base}/status`, 'online', { qos: 1, retain: true });
  return {
    client,
    send: (metrics: Record<string, number | boolean | string>) =>
      client.publishAsync(`${base}/telemetry`, JSON.stringify({ metrics }), { qos: 1 }),
  };
}

/**
 * The alarms API against the built services on both databases: alarms put in every ISA-18.2
 * state survive a kill -9 of the service exactly (state, activation, shelf, out of service,
 * history) and go on from there; bad input — forged, stale or malformed acknowledgements, a shelve
 * without a reason or beyond the maximum, an expired token, the wrong role — gets a clear 4xx and
 * changes nothing; every transition is also an `alarm_event` point in InfluxDB.
 */
describe.each(['sqlite', 'postgres'] as const)('alarms API (%s)', (database) => {
  let platform: Platform;
  let ops: Operations;
  const clients: MqttClient[] = [];
  const devices = new Map<string, Awaited<ReturnType<typeof device>>>();
  const tag = database === 'sqlite' ? 'sq' : 'pg';
  const F = (n: number) => `ulf-${tag}-0${n}`;
  const L = (n: number) => `bsl-${tag}-0${n}`;
  const HIHI = (id: string) => `${id}.cabinet_temp_c.hihi`;
  const CONTAINMENT = `${L(1)}.containment_ok`;
  const PRESSURE = `${L(2)}.room_pressure_pa.hihi`;

  const get = async (id: string) => {
    const r = await ops.api<AlarmBody>('GET', `/api/v1/alarms/${id}`, ops.tokens.viewer);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  };
  const reach = async (id: string, state: string, active?: boolean) => {
    let last: AlarmBody | undefined;
    try {
      await waitFor(
        `${id} ${state}`,
        async () => {
          last = (await ops.api<AlarmBody>('GET', `/api/v1/alarms/${id}`, ops.tokens.viewer)).body;
          return last?.state === state && (active === undefined || last.active === active);
        },
        15_000,
        100,
      );
    } catch {
      throw new Error(`${id} never ${state}; last: ${JSON.stringify(last)}\n${ops.process.tail()}`);
    }
  };
  const act = (id: string, action: string, body: unknown, token = ops.tokens.operator) =>
    ops.api<AlarmBody & ErrorBody>('POST', `/api/v1/alarms/${id}/${action}`, token, body);
  /** Every stored alarm of this suite's devices, with its whole history: what must not change. */
  const everything = async () => {
    const r = await ops.api<{ alarms: AlarmBody[] }>(
      'GET',
      '/api/v1/alarms?all=true',
      ops.tokens.viewer,
    );
    const mine = r.body.alarms.filter((a) => a.id.includes(`-${tag}-`));
    const out: Record<string, unknown> = {};
    for (const a of mine.sort((x, y) => x.id.localeCompare(y.id))) {
      const full = await get(a.id);
      out[a.id] = {
        state: full.state,
        active: full.active,
        activation: full.activation,
        updatedAt: full.updatedAt,
        shelf: full.shelf,
        outOfService: full.outOfService,
        history: full.history,
      };
    }
    return out;
  };

  beforeAll(async () => {
    platform = await startPlatform();
    ops = await startOperations(platform, database, {
      ALARM_DELAY_SCALE: '0',
      ALARM_TICK_MS: '200',
      ALARM_SHELVE_MAX_S: '3600',
    });
  });

  afterAll(async () => {
    for (const c of clients) await c.endAsync().catch(() => undefined);
    await ops?.stop();
    await platform?.stop();
  });

  let before: Record<string, unknown>;

  it('puts alarms in every state', async () => {
    for (let n = 1; n <= 5; n++) devices.set(F(n), await device(platform.mqttUrl, FREEZERS, F(n)));
    for (const n of [1, 2]) devices.set(L(n), await device(platform.mqttUrl, LABS, L(n)));
    clients.push(...[...devices.values()].map((d) => d.client));
    const freezers = [1, 2, 3, 4, 5].map((n) => devices.get(F(n))!);
    const labs = [devices.get(L(1))!, devices.get(L(2))!];

    for (const f of freezers) await f.send({ cabinet_temp_c: -62.5 });
    for (let n = 1; n <= 5; n++) await reach(HIHI(F(n)), 'unacknowledged', true);

    // acknowledged
    expect((await act(HIHI(F(2)), 'acknowledge', { comment: 'door checked' })).status).toBe(200);
    // returned to normal, unacknowledged
    await freezers[2]!.send({ cabinet_temp_c: -80 });
    await reach(HIHI(F(3)), 'returned_unacknowledged', false);
    // shelved
    const shelf = await act(HIHI(F(4)), 'shelve', {
      reason: 'defrost by service',
      durationS: 3600,
    });
    expect(shelf.status, JSON.stringify(shelf.body)).toBe(200);
    // out of service (admin only)
    const oos = await act(
      HIHI(F(5)),
      'out-of-service',
      { reason: 'sensor replaced' },
      ops.tokens.admin,
    );
    expect(oos.status, JSON.stringify(oos.body)).toBe(200);
    // latched: containment lost, then back — stays latched until reset
    await labs[0]!.send({ mode: 'operational', containment_ok: false });
    await reach(CONTAINMENT, 'unacknowledged', true);
    await labs[0]!.send({ mode: 'operational', containment_ok: true });
    await reach(CONTAINMENT, 'latched', false);
    // suppressed by design: no containment alarm while the lab is being decontaminated
    await labs[1]!.send({ mode: 'decontamination', room_pressure_pa: -10 });
    await reach(PRESSURE, 'suppressed', true);

    before = await everything();
    const states = Object.fromEntries(
      Object.entries(before).map(([id, a]) => [id, (a as AlarmBody).state]),
    );
    expect(states).toMatchObject({
      [HIHI(F(1))]: 'unacknowledged',
      [HIHI(F(2))]: 'acknowledged',
      [HIHI(F(3))]: 'returned_unacknowledged',
      [HIHI(F(4))]: 'shelved',
      [HIHI(F(5))]: 'out_of_service',
      [CONTAINMENT]: 'latched',
      [PRESSURE]: 'suppressed',
    });
  });

  it('refuses bad input with a clear 4xx and changes nothing', async () => {
    const cases: [string, Promise<{ status: number; body: ErrorBody }>, number, string][] = [
      // forged acknowledgements
      [
        'an alarm id of a device that never reported',
        act('ulf-nobody-99.cabinet_temp_c.hihi', 'acknowledge', {}),
        404,
        'unknown_alarm',
      ],
      [
        'a tag the device has no definition for',
        act(`${F(1)}.spindle_rpm.hi`, 'acknowledge', {}),
        404,
        'unknown_alarm',
      ],
      [
        'an id that is no alarm id',
        act('..%2F..%2Fusers', 'acknowledge', {}),
        400,
        'invalid_request',
      ],
      [
        'an alarm in normal',
        act(`${F(1)}.offline`, 'acknowledge', {}),
        409,
        'alarm_action_not_allowed',
      ],
      [
        'an acknowledged one again',
        act(HIHI(F(2)), 'acknowledge', {}),
        409,
        'alarm_action_not_allowed',
      ],
      [
        "another activation's number",
        act(HIHI(F(1)), 'acknowledge', { activation: 7 }),
        409,
        'stale_acknowledgement',
      ],
      [
        'a masked (shelved) alarm',
        act(HIHI(F(4)), 'acknowledge', {}),
        409,
        'alarm_action_not_allowed',
      ],
      [
        'an unknown field',
        act(HIHI(F(1)), 'acknowledge', { comment: 'x', by: 'admin' }),
        400,
        'invalid_request',
      ],
      // shelving
      [
        'a shelve without a reason',
        act(HIHI(F(1)), 'shelve', { durationS: 600 }),
        400,
        'invalid_request',
      ],
      [
        'a blank reason',
        act(HIHI(F(1)), 'shelve', { reason: '   ', durationS: 600 }),
        400,
        'invalid_request',
      ],
      [
        'a shelve beyond the maximum',
        act(HIHI(F(1)), 'shelve', { reason: 'night', durationS: 3601 }),
        422,
        'shelve_too_long',
      ],
      [
        'a shelve of no duration',
        act(HIHI(F(1)), 'shelve', { reason: 'night', durationS: 0 }),
        400,
        'invalid_request',
      ],
      [
        'a shelf on a shelf',
        act(HIHI(F(4)), 'shelve', { reason: 'again', durationS: 60 }),
        409,
        'alarm_action_not_allowed',
      ],
      // who
      [
        'a viewer acknowledging',
        act(HIHI(F(1)), 'acknowledge', {}, ops.tokens.viewer),
        403,
        'forbidden',
      ],
      [
        'an operator taking an alarm out of service',
        act(HIHI(F(1)), 'out-of-service', { reason: 'x' }),
        403,
        'forbidden',
      ],
      [
        'no token',
        ops.api<ErrorBody>('POST', `/api/v1/alarms/${HIHI(F(1))}/acknowledge`, undefined, {}),
        401,
        'unauthenticated',
      ],
    ];
    for (const [what, answer, status, error] of cases) {
      const r = await answer;
      expect({ what, status: r.status, error: r.body.error }).toEqual({ what, status, error });
      expect(r.body.message.length, what).toBeGreaterThan(10);
    }

    // An expired token: a real one, asked for with a one-second life.
    const login = await ops.api<{ token: string }>('POST', '/api/v1/auth/tokens', undefined, {
      username: 'olga',
      password: 'olga-password-1',
      ttlS: 1,
    });
    expect(login.status).toBe(201);
    expect((await act(HIHI(F(1)), 'comments', { comment: 'fresh' }, login.body.token)).status).toBe(
      201,
    );
    await new Promise((r) => setTimeout(r, 1200));
    const expired = await act(HIHI(F(1)), 'acknowledge', { comment: 'late' }, login.body.token);
    expect([expired.status, expired.body.error]).toEqual([401, 'unauthenticated']);
    expect(expired.body.message).toContain('expired');

    // Nothing changed but the one comment the fresh token made.
    const after = await everything();
    const f1 = after[HIHI(F(1))] as AlarmBody;
    expect(f1.history.at(-1)).toMatchObject({ action: 'comment', by: 'olga', comment: 'fresh' });
    f1.history.pop();
    before = {
      ...before,
      [HIHI(F(1))]: { ...(before[HIHI(F(1))] as object), updatedAt: f1.updatedAt },
    };
    expect(after).toEqual(before);
    before = await everything();
  });

  it('a kill -9 of the service keeps every alarm exactly, and each goes on from its state', async () => {
    await ops.crashAndRestart();
    expect(await everything()).toEqual(before);

    // Each one resumes where it was: the lifecycle and the process condition both came back.
    expect(
      (await act(CONTAINMENT, 'acknowledge', { comment: 'reset after the fan repair' })).status,
    ).toBe(200);
    await reach(CONTAINMENT, 'normal', false);
    expect((await act(HIHI(F(3)), 'acknowledge', {})).status).toBe(200);
    await reach(HIHI(F(3)), 'normal', false);
    expect((await act(HIHI(F(1)), 'acknowledge', {})).status).toBe(200);
    await reach(HIHI(F(1)), 'acknowledged', true);
    // still active while shelved and out of service: back as unacknowledged when unmasked
    expect((await act(HIHI(F(4)), 'unshelve', {})).status).toBe(200);
    await reach(HIHI(F(4)), 'unacknowledged', true);
    expect((await act(HIHI(F(5)), 'return-to-service', {}, ops.tokens.admin)).status).toBe(200);
    await reach(HIHI(F(5)), 'unacknowledged', true);
    // the acknowledged freezer recovers: an acknowledged alarm returns to normal by itself
    await devices.get(F(2))!.send({ cabinet_temp_c: -80 });
    await reach(HIHI(F(2)), 'normal', false);
    // the lab's decontamination ends with the pressure still high: annunciated afresh
    await devices.get(L(2))!.send({ mode: 'operational', room_pressure_pa: -10 });
    await reach(PRESSURE, 'unacknowledged', true);

    const history = (await get(HIHI(F(2)))).history;
    expect(history.map((h) => `${h.action}:${h.toState}`)).toEqual([
      'activate:unacknowledged',
      'acknowledge:acknowledged',
      'clear:normal',
    ]);
    expect(history[1]).toMatchObject({ by: 'olga', comment: 'door checked' });
  });

  it('writes every transition to InfluxDB as alarm_event', async () => {
    for (const id of [HIHI(F(2)), CONTAINMENT, PRESSURE]) {
      const history = (await get(id)).history;
      const deviceId = id.slice(0, id.indexOf('.'));
      const alarm = id.slice(deviceId.length + 1);
      await platform.waitForCount(
        'alarm_event',
        'id',
        history.length,
        `"device" = '${deviceId}' AND "alarm" = '${alarm}'`,
        15_000,
      );
    }
    const [series = []] = await platform.store.query(
      `SELECT "by", "comment", "action", "state" FROM "alarm_event" WHERE "device" = '${F(2)}' AND "alarm" = 'cabinet_temp_c.hihi'`,
    );
    expect(series.map((s) => s.values.map((v) => v.slice(1)))[0]).toEqual([
      ['system', null, 'activate', 'unacknowledged'],
      ['olga', 'door checked', 'acknowledge', 'acknowledged'],
      ['system', null, 'clear', 'normal'],
    ]);
  });
});
