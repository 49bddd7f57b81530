import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CommandView } from '@parkpulse/commands';
import { DEV_GROUP_KEY, waitFor } from '@parkpulse/dev-services';
import { parseScenario, runScenario, scenarioFleet } from '@parkpulse/park-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOperations, type Operations } from './support/operations.js';
import { ROOT, startPlatform, type Platform } from './support/platform.js';

const CLI = join(ROOT, 'apps/operations/dist/cli.js');
const run = promisify(execFile);

const scenario = parseScenario({
  name: 'commands-e2e',
  seed: 11,
  intervalScale: 0.2,
  fleet: [
    { park: 'science-city', site: 'cell-7', devices: { cnc_machine: 1 } },
    { park: 'yuzhu', site: 'tower-a', devices: { building_hvac: 1, street_light: 3 } },
    { park: 'bio-island', site: 'bsl-3', devices: { bsl_laboratory: 1 } },
  ],
  faults: [],
});
const ids = scenarioFleet(scenario).map((d) => d.deviceId);
const [cnc, ahu, l1, l2, l3, lab] = ids as [string, string, string, string, string, string];
const lights = [l1, l2, l3];

/**
 * API → broker → simulated device → result → state `done`, and the device's telemetry shows the
 * effect; the same with either database behind the service.
 */
describe.each(['sqlite', 'postgres'] as const)('commands round trip (%s)', (database) => {
  let platform: Platform;
  let ops: Operations;
  const abort = new AbortController();
  let fleetRun: Promise<unknown>;

  beforeAll(async () => {
    platform = await startPlatform();
    ops = await startOperations(platform, database);
    fleetRun = runScenario({
      url: platform.mqttUrl,
      scenario,
      durationMs: 170_000,
      groupKey: DEV_GROUP_KEY,
      signal: abort.signal,
    });
    await ops.waitForDevices(ids);
  });

  afterAll(async () => {
    abort.abort();
    await fleetRun?.catch(() => undefined);
    await ops?.stop();
    await platform?.stop();
  });

  const last = async (measurement: string, field: string, device: string) => {
    const [series = []] = await platform.store.query(
      `SELECT LAST("${field}") FROM "${measurement}" WHERE "device" = '${device}'`,
    );
    return series[0]?.values[0]?.[1];
  };

  const send = async (deviceId: string, name: string, params: object) => {
    const r = await ops.api<CommandView>(
      'POST',
      `/api/v1/devices/${deviceId}/commands`,
      ops.tokens.operator,
      {
        name,
        params,
        ttlS: 60,
      },
    );
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body).toMatchObject({ state: 'queued', createdBy: 'olga', deviceId, name, params });
    return ops.waitForCommand(r.body.id, (c) => c.state === 'done', 'done');
  };

  it('stops a CNC machine: done, recorded step by step, and the machine reports idle', async () => {
    const done = await send(cnc, 'stop', {});
    const states = done.history.map((h) => h.state);
    expect(states.slice(0, 2)).toEqual(['queued', 'sent']);
    expect(states.slice(-2)).toEqual(['accepted', 'done']);
    expect(done.history[0]!.by).toBe('olga');
    expect(done.history.at(-1)!.by).toBe(`device:${cnc}`);
    expect(done.result).toEqual({ state: 'idle' });
    await waitFor(
      'the CNC machine reports idle',
      async () => (await last('cnc_machine', 'state', cnc)) === 'idle',
    );
    expect(await last('cnc_machine', 'spindle_rpm', cnc)).toBe(0);
    // Delivery and result are in InfluxDB too: the service's record and the device's own answer.
    await waitFor('device_command points', async () => {
      const [series = []] = await platform.store.query(
        `SELECT COUNT("id") FROM "device_command" WHERE "id" = '${done.id}' AND "status" = 'done' GROUP BY "source"`,
      );
      return series.length === 2;
    });
  });

  it('moves an HVAC setpoint: the unit reports it, and its supply air follows', async () => {
    await waitFor('a supply temperature', async () => {
      return typeof (await last('building_hvac', 'supply_air_temp_c', ahu)) === 'number';
    });
    // Far from what the unit runs at now (its mode follows the weather and the schedule).
    const running = (await last('building_hvac', 'supply_air_setpoint_c', ahu)) as number;
    const setpoint = running >= 21 ? 12.5 : 28.5;
    const sign = Math.sign(setpoint - running);
    const before = (await last('building_hvac', 'supply_air_temp_c', ahu)) as number;
    const done = await send(ahu, 'set_supply_setpoint', { setpoint_c: setpoint });
    expect(done.result).toEqual({ supply_air_setpoint_c: setpoint });
    await waitFor(
      'the setpoint in the telemetry',
      async () => (await last('building_hvac', 'supply_air_setpoint_c', ahu)) === setpoint,
    );
    // The supply air follows with the unit's lag (a time constant of two minutes).
    await waitFor(
      `the supply air 1.5 °C ${sign > 0 ? 'warmer' : 'cooler'}`,
      async () =>
        sign * (((await last('building_hvac', 'supply_air_temp_c', ahu)) as number) - before) >=
        1.5,
      60_000,
    );
  });

  it("dims a site's street lights with one request: one command per light, all done, each light dimmed", async () => {
    const selector = { park: 'yuzhu', site: 'tower-a', assetType: 'street_light' };
    const full = new Map<string, number>();
    for (const [name, params] of [
      ['switch', { on: true }],
      ['dim', { level_pct: 100 }],
      ['dim', { level_pct: 40 }],
    ] as const) {
      const r = await ops.api<{ commands: CommandView[] }>(
        'POST',
        '/api/v1/commands',
        ops.tokens.operator,
        {
          selector,
          name,
          params,
        },
      );
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      expect(r.body.commands.map((c) => c.deviceId).sort()).toEqual([...lights].sort());
      for (const c of r.body.commands)
        await ops.waitForCommand(c.id, (v) => v.state === 'done', 'done');
      if (name === 'dim' && params.level_pct === 100)
        for (const light of lights) {
          await waitFor(
            `${light} at 100 %`,
            async () => (await last('street_light', 'dimming_pct', light)) === 100,
          );
          full.set(light, (await last('street_light', 'power_w', light)) as number);
        }
    }
    for (const light of lights) {
      await waitFor(
        `${light} dimmed to 40 %`,
        async () => (await last('street_light', 'dimming_pct', light)) === 40,
      );
      // The dimmed lamp draws 40 % of its full power.
      const power = (await last('street_light', 'power_w', light)) as number;
      expect(full.get(light)).toBeGreaterThan(10);
      expect(power / full.get(light)!, light).toBeCloseTo(0.4, 1);
    }
    const history = await ops.api<{ commands: CommandView[] }>(
      'GET',
      `/api/v1/devices/${lights[0]}/commands`,
      ops.tokens.viewer,
    );
    expect(history.status).toBe(200);
    expect(history.body.commands.map((c) => c.name)).toEqual(['dim', 'dim', 'switch']);
  });

  it('does the same from a script: the CLI sends, waits for the end and exits by the result', async () => {
    const cli = (token: string, ...args: string[]) =>
      // The token from the environment, as a script holds it (a token may start with "-").
      run(process.execPath, [CLI, ...args, '--url', ops.url], {
        env: { ...process.env, PARKPULSE_OPS_TOKEN: token },
      }).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const sent = await cli(ops.tokens.operator, 'send', ahu, 'set_mode', 'mode=fan_only', '--wait');
    expect(sent.code, sent.stderr).toBe(0);
    // The command as accepted, then the final states of --wait.
    const final = JSON.parse(sent.stdout.slice(sent.stdout.lastIndexOf('\n[') + 1)) as {
      state: string;
      result: object;
    }[];
    expect(final).toMatchObject([{ state: 'done', result: { mode: 'fan_only' } }]);
    const high = await cli(
      ops.tokens.operator,
      'send',
      ahu,
      'set_supply_setpoint',
      'setpoint_c=31',
    );
    expect(high.code).toBe(1);
    expect(high.stderr).toMatch(/^parkpulse-ops: 422 .*param_out_of_range/);
    const viewer = await cli(ops.tokens.viewer, 'send', ahu, 'set_mode', 'mode=off');
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toMatch(/^parkpulse-ops: 403 /);
    const listed = await cli(ops.tokens.viewer, 'list', ahu, '--limit', '1');
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      commands: [{ name: 'set_mode', state: 'done' }],
    });
  });

  it('records a refusal by the device as rejected, with its reason', async () => {
    const r = await ops.api<CommandView>(
      'POST',
      `/api/v1/devices/${lab}/commands`,
      ops.tokens.operator,
      {
        name: 'end_decontamination',
      },
    );
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const rejected = await ops.waitForCommand(r.body.id, (c) => c.state === 'rejected', 'rejected');
    expect(rejected.reason).toBe('wrong_state');
    expect(rejected.history.at(-1)).toMatchObject({ by: `device:${lab}`, state: 'rejected' });
  });
});
