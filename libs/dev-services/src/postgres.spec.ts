import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPostgresBinDir, startPostgres } from './postgres.js';

describe('startPostgres', () => {
  it('runs a private cluster on a free port that answers queries, and removes it on stop', async () => {
    const pg = await startPostgres();
    try {
      const psql = join(findPostgresBinDir()!, 'psql');
      const out = execFileSync(existsOr(psql, 'psql'), [pg.url, '-tAc', 'SELECT 40 + 2'], {
        encoding: 'utf8',
      });
      expect(out.trim()).toBe('42');
    } finally {
      await pg.stop();
    }
    expect(existsSync(pg.dataDir)).toBe(false);
  }, 60_000);
});

function existsOr(path: string, fallback: string): string {
  try {
    execFileSync(path, ['--version']);
    return path;
  } catch {
    return fallback;
  }
}
