import { startPostgres, type PostgresHandle } from '@parkpulse/dev-services';
import { afterAll, beforeAll } from 'vitest';
import { commandStoreContract } from './command-store.contract.js';
import type { CommandStore } from './command-store.js';
import { PostgresCommandStore } from './postgres-command-store.js';

// A real PostgreSQL cluster (initdb in a temporary directory); each case gets a database of its own.
let server: PostgresHandle;
let n = 0;
beforeAll(async () => {
  server = await startPostgres();
}, 90_000);
afterAll(async () => {
  await server?.stop();
});

commandStoreContract('PostgreSQL', async () => {
  const db = `ops_${++n}`;
  const admin = new PostgresCommandStore(server.url);
  await (admin as unknown as { pool: { query(sql: string): Promise<unknown> } }).pool.query(
    `CREATE DATABASE ${db}`,
  );
  await admin.close();
  const url = server.url.replace(/\/postgres$/, `/${db}`);
  const opened: CommandStore[] = [new PostgresCommandStore(url)];
  await opened[0]!.migrate();
  return {
    store: opened[0]!,
    async reopen() {
      await opened[0]!.close();
      const next = new PostgresCommandStore(url);
      opened.push(next);
      return next;
    },
    async cleanup() {
      for (const s of opened) await s.close().catch(() => undefined);
    },
  };
});
