import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandStoreContract } from './command-store.contract.js';
import type { CommandStore } from './command-store.js';
import { SqliteCommandStore } from './sqlite-command-store.js';

commandStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parkpulse-ops-sqlite-'));
  const file = join(dir, 'nested', 'operations.sqlite');
  const opened: CommandStore[] = [new SqliteCommandStore(file)];
  await opened[0]!.migrate();
  return {
    store: opened[0]!,
    async reopen() {
      await opened[0]!.close();
      const next = new SqliteCommandStore(file);
      opened.push(next);
      return next;
    },
    async cleanup() {
      for (const s of opened) await s.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
