import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('park-sim CLI (built)', () => {
  beforeAll(() => {
    if (!existsSync(CLI))
      throw new Error(`${CLI} is missing: build first (npx nx build @parkpulse/park-sim)`);
  });

  it('--help explains every command with examples', async () => {
    const { code, stdout } = await cli('--help');
    expect(code).toBe(0);
    for (const command of ['run', 'backfill', 'load', 'record', 'replay', 'generate'])
      expect(stdout).toMatch(new RegExp(`park-sim ${command} `));
  });

  it('generate prints the same messages for the same scenario and seed', async () => {
    const a = await cli('generate', '--scenario', 'science-city-demo', '--count', '50');
    const b = await cli('generate', '--scenario', 'science-city-demo', '--count', '50');
    expect(a.code).toBe(0);
    expect(a.stdout.trim().split('\n')).toHaveLength(50);
    expect(b.stdout).toBe(a.stdout);
    const c = await cli(
      'generate',
      '--scenario',
      'science-city-demo',
      '--count',
      '50',
      '--seed',
      '99',
    );
    expect(c.stdout).not.toBe(a.stdout);
  });

  describe('backfill: usage errors (exit 2), found before any connection', () => {
    // A broker nobody listens on: an invocation that got past validation fails with 1, not 2.
    const backfill = (...args: string[]) => cli('backfill', '--url', 'mqtt://127.0.0.1:1', ...args);
    const HOUR = 3_600_000;

    it.each([
      ['no --duration', [], /needs --duration/],
      ['a duration that is not one', ['--duration', 'soon'], /"soon" is not a duration/],
      ['no history', ['--duration', '0s'], /> 0 and at most 7 days/],
      ['more than 7 days', ['--duration', '169h'], /> 0 and at most 7 days/],
      [
        'an --end that is no time',
        ['--duration', '2h', '--end', 'yesterday-ish'],
        /epoch ms or an ISO time/,
      ],
      [
        'an --end 1 h ahead (epoch ms)',
        ['--duration', '2h', '--end', String(Date.now() + HOUR)],
        /5 minutes in the future/,
      ],
      [
        'an --end 10 min ahead (ISO)',
        ['--duration', '2h', '--end', new Date(Date.now() + 10 * 60_000).toISOString()],
        /5 minutes in the future/,
      ],
      [
        'a start more than 7 days ago',
        ['--duration', '120h', '--end', String(Date.now() - 72 * HOUR)],
        /within the last 7 days/,
      ],
      ['a negative seed', ['--duration', '2h', '--seed=-1'], /--seed must be an integer ≥ 0/],
    ])('%s', async (_label, args, message) => {
      const { code, stderr } = await backfill(...args);
      expect(stderr).toMatch(message);
      expect(code).toBe(2);
    });

    it('takes 168h ending now, and an --end in the past as epoch ms or ISO time', async () => {
      const scenario = ['--scenario', 'atlantis'];
      // Past validation, the scenario is loaded (and here, missing): exit 1.
      for (const args of [
        ['--duration', '168h'],
        ['--duration', '1h', '--end', String(Date.now() - 24 * HOUR)],
        ['--duration', '30m', '--end', new Date(Date.now() - HOUR).toISOString()],
        ['--duration', '2h', '--end', new Date(Date.now() + 60_000).toISOString()],
      ]) {
        const { code, stderr } = await backfill(...args, ...scenario);
        expect(stderr).toMatch(/no scenario "atlantis"/);
        expect(code).toBe(1);
      }
    });
  });

  it('says what is wrong: unknown command (2), unknown scenario (1)', async () => {
    expect((await cli('fly')).code).toBe(2);
    const missing = await cli('generate', '--scenario', 'atlantis');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no scenario "atlantis"/);
  });
});
