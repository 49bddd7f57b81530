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
    for (const command of ['run', 'load', 'record', 'replay', 'generate'])
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

  it('says what is wrong: unknown command (2), unknown scenario (1)', async () => {
    expect((await cli('fly')).code).toBe(2);
    const missing = await cli('generate', '--scenario', 'atlantis');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no scenario "atlantis"/);
  });
});
