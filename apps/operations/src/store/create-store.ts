import type { OperationsConfig } from '../config/operations-config.js';
import type { CommandStore } from './command-store.js';
import { PostgresCommandStore } from './postgres-command-store.js';
import { SqliteCommandStore } from './sqlite-command-store.js';

/** The store the configuration names (DATABASE_URL), migrated. */
export async function createStore(database: OperationsConfig['database']): Promise<CommandStore> {
  const store =
    database.driver === 'sqlite'
      ? new SqliteCommandStore(database.file)
      : new PostgresCommandStore(database.url);
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    const where = database.driver === 'sqlite' ? database.file : redact(database.url);
    throw new Error(`${database.driver} database ${where}: ${(error as Error).message}`);
  }
  return store;
}

/** A database URL fit for a log line (no password). */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
