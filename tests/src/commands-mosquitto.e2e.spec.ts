import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { CommandView } from '@parkpulse/commands';
import { deviceCredentials } from '@parkpulse/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOperations, type Operations } from './support/operations.js';
import { startPlatform, type Platform } from './support/platform.js';

const run = promisify(execFile);

/** A device nobody here wrote: mosquitto_sub receives the command, mosquitto_pub answers. */
describe('commands to a mosquitto-clients device', () => {
  let platform: Platform;
  let ops: Operations;
  const deviceId = 'ulf-mosq-1';
  const base = `parks/bio-island/cold-store/ultra_low_freezer/${deviceId}`;
  const login = deviceCredentials(deviceId);
  const auth = () => [
    '-h',
    '127.0.0.1',
    '-p',
    String(platform.mqttPort),
    '-V',
    'mqttv311',
    '-i',
    login.clientId,
    '-u',
    login.username,
    '-P',
    login.password,
  ];

  beforeAll(async () => {
    platform = await startPlatform();
    ops = await startOperations(platform, 'sqlite');
    await run('mosquitto_pub', [
      ...auth(),
      '-q',
      '1',
      '-r',
      '-t',
      `${base}/status`,
      '-m',
      'online',
    ]);
    await ops.waitForDevices([deviceId]);
  });

  afterAll(async () => {
    await ops?.stop();
    await platform?.stop();
  });

  it('receives the command on its cmd topic and its answer completes it', async () => {
    // The device stays connected, as firmware does, and acknowledges what it receives (QoS 1).
    // -d: its protocol log says when the SUBACK is in; the payload is the line that is JSON.
    // stdbuf: line-buffered, so the protocol log arrives as it happens.
    const sub = spawn(
      'stdbuf',
      ['-oL', 'mosquitto_sub', ...auth(), '-d', '-q', '1', '-t', `${base}/cmd`, '-W', '90'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let subscribed: () => void = () => undefined;
    const subacked = new Promise<void>((resolve) => (subscribed = resolve));
    const firstLine = new Promise<string>((resolve) =>
      sub.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('received SUBACK')) subscribed();
        const json = out.split('\n').find((l) => l.startsWith('{'));
        if (json) resolve(json);
      }),
    );
    await subacked;
    try {
      await answerCommand(firstLine);
    } finally {
      sub.kill();
    }
  });

  async function answerCommand(firstLine: Promise<string>): Promise<void> {
    const r = await ops.api<CommandView>(
      'POST',
      `/api/v1/devices/${deviceId}/commands`,
      ops.tokens.operator,
      {
        name: 'set_setpoint',
        params: { setpoint_c: -70 },
        ttlS: 60,
      },
    );
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const command = JSON.parse(await firstLine) as {
      id: string;
      name: string;
      params: object;
      expiresAt: number;
    };
    expect(command).toMatchObject({
      id: r.body.id,
      name: 'set_setpoint',
      params: { setpoint_c: -70 },
    });
    expect(command.expiresAt).toBe(Date.parse(r.body.expiresAt));
    await ops.waitForCommand(r.body.id, (c) => c.state === 'delivered', 'delivered');

    const answer = (body: object) =>
      run('mosquitto_pub', [
        ...auth(),
        '-q',
        '1',
        '-t',
        `${base}/cmd_result`,
        '-m',
        JSON.stringify({ id: command.id, ...body }),
      ]);
    await answer({ status: 'accepted' });
    await ops.waitForCommand(r.body.id, (c) => c.state === 'accepted', 'accepted');
    await answer({ status: 'done', result: { setpoint_c: -70 }, message: 'setpoint changed' });
    const done = await ops.waitForCommand(r.body.id, (c) => c.state === 'done', 'done');
    const states = done.history.map((h) => h.state);
    // A publication not confirmed within REDELIVER_AFTER_MS is published again (queued → sent
    // once more) — the device saw one command id either way.
    expect(states.slice(0, 2)).toEqual(['queued', 'sent']);
    expect(states.slice(-3)).toEqual(['delivered', 'accepted', 'done']);
    expect(done.result).toEqual({ setpoint_c: -70 });
  }
});
