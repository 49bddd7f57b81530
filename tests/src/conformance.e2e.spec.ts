import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceCredentials, DEV_GROUP_KEY, DEV_SERVICE_SECRETS } from '@parkpulse/dev-services';
import {
  ContractDevice,
  type ClauseResult,
  type ConformReport,
  type DeviceFault,
} from '@parkpulse/park-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startPlatform, type Platform } from './support/platform.js';

const CLI = join(ROOT, 'simulators/park-sim/dist/cli.js');

/** Each fault breaks exactly one clause of the contract; the well-behaved device none. */
const CASES: readonly { fault?: DeviceFault; fails: readonly string[] }[] = [
  { fails: [] },
  { fault: 'seconds-ts', fails: ['timestamp'] },
  { fault: 'seq-back', fails: ['seq'] },
  { fault: 'out-of-range', fails: ['ranges'] },
  { fault: 'wrong-topic', fails: ['topic'] },
  { fault: 'no-will', fails: ['will'] },
  { fault: 'no-retained-status', fails: ['status'] },
  { fault: 'no-backoff', fails: ['reconnect'] },
  { fault: 'qos0', fails: ['qos'] },
  // 900 s: the broker accepts it (≤ 1,200 s), the tester fails it (above 120 s, §1 says 30–60 s).
  { fault: 'long-keepalive', fails: ['keepalive'] },
];

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly report: ConformReport;
}

/**
 * `park-sim conform` (the built CLI, a process of its own, with the observer account) against
 * simulated devices on a real broker and ingestion: watch, then three kicks (session takeovers)
 * for the will and the reconnect back-off.
 */
describe('park-sim conform against simulated devices', () => {
  let platform: Platform;
  let dir: string;
  const outcomes = new Map<string, Outcome>();

  async function check(deviceId: string, fault?: DeviceFault): Promise<Outcome> {
    const stop = new AbortController();
    const device = new ContractDevice({
      url: platform.mqttUrl,
      address: { park: 'science-city', site: 'conform-lab', assetType: 'cnc_machine', deviceId },
      groupKey: DEV_GROUP_KEY,
      durationMs: 120_000,
      backoffMs: { min: 1000, max: 8000 },
      seed: 3, // back-off waits of 860, 519 and 728 ms: jitter visible
      signal: stop.signal,
      ...(fault ? { faults: [fault] } : {}),
    });
    const running = device.run();
    // The retained status must exist before the observer subscribes.
    while (device.device.counters.connects === 0) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    const reportFile = join(dir, `${deviceId}.json`);
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          CLI,
          'conform',
          ...['--url', platform.mqttUrl, '--device', deviceId, '--watch', '6s'],
          ...['--device-key', deviceCredentials(deviceId).password, '--kicks', '3'],
          ...['--reconnect-wait', '15s', '--report', reportFile],
        ],
        {
          env: {
            ...process.env,
            PARKPULSE_OBSERVER_SECRET: DEV_SERVICE_SECRETS['parkpulse-observer'],
          },
        },
        (error, stdout, stderr) =>
          resolve({
            code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
            stdout: `${stdout}${stderr}`,
          }),
      );
    });
    stop.abort();
    await running;
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ConformReport;
    return { ...result, report };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parkpulse-conform-'));
    platform = await startPlatform();
    const runs = await Promise.all(
      CASES.map(async (c) => {
        const id = `conf-${c.fault ?? 'good'}`;
        return [id, await check(id, c.fault)] as const;
      }),
    );
    for (const [id, outcome] of runs) outcomes.set(id, outcome);
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const failing = (clauses: readonly ClauseResult[]) =>
    clauses.filter((c) => c.status === 'fail').map((c) => c.id);
  const describeClauses = (clauses: readonly ClauseResult[]) =>
    clauses.map((c) => `${c.id}: ${c.status} ${c.detail} ${c.examples.join(' | ')}`).join('\n');

  it('passes a well-behaved device on every clause, keep-alive and will flags from the broker', () => {
    const { code, report, stdout } = outcomes.get('conf-good')!;
    expect(
      Object.fromEntries(report.clauses.map((c) => [c.id, c.status])),
      describeClauses(report.clauses),
    ).toEqual({
      topic: 'pass',
      schema: 'pass',
      ranges: 'pass',
      seq: 'pass',
      timestamp: 'pass',
      batch: 'pass',
      interval: 'pass',
      status: 'pass',
      will: 'pass',
      reconnect: 'pass',
      qos: 'pass',
      keepalive: 'pass',
    });
    const detail = (id: string) => report.clauses.find((c) => c.id === id)!.detail;
    expect(detail('keepalive')).toMatch(/^keep-alive 30 s, within/);
    expect(detail('will')).toContain(
      'will on parks/science-city/conform-lab/cnc_machine/conf-good/status, QoS 1, retained, 7 bytes',
    );
    expect(report).toMatchObject({ mode: 'active', passed: true });
    expect(code).toBe(0);
    expect(stdout).toContain('PASS: every observable clause kept');
    expect(stdout).not.toContain('\u001b['); // not a TTY: no colours
  });

  for (const c of CASES.filter((x) => x.fault)) {
    it(`fails a device with the fault ${c.fault} on ${c.fails.join(', ')} and nothing else`, () => {
      const { code, report, stdout } = outcomes.get(`conf-${c.fault}`)!;
      expect(failing(report.clauses), describeClauses(report.clauses)).toEqual(c.fails);
      expect(report.passed).toBe(false);
      expect(code).toBe(1);
      expect(stdout).toMatch(new RegExp(`^${c.fails[0]}\\s+FAIL`, 'm'));
    });
  }

  it("tells why from the broker's connection notice: no will set, a keep-alive of 900 s", () => {
    const clause = (id: string, clauseId: string) =>
      outcomes.get(id)!.report.clauses.find((c) => c.id === clauseId)!;
    expect(clause('conf-no-will', 'will').detail).toMatch(/^no will set/);
    expect(clause('conf-long-keepalive', 'keepalive').detail).toMatch(
      /^keep-alive 900 s: above 120 s/,
    );
    // The tester's own connections as the device (the kicks: no will) are not the device's.
    expect(clause('conf-good', 'will').status).toBe('pass');
  });
});
