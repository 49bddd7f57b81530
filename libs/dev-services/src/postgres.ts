import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { freePort, waitFor } from './ports.js';

export const POSTGRES_INSTALL_HINT =
  'PostgreSQL (initdb, postgres) is required. On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y postgresql ' +
  '(or run `npm test`, which installs it when it can); elsewhere install PostgreSQL 13+ and point PG_BIN_DIR at the ' +
  'directory holding initdb and postgres.';

/**
 * The directory of `initdb` and `postgres`: PG_BIN_DIR, the PATH, or Debian's
 * /usr/lib/postgresql/{version}/bin (Debian keeps them off the PATH), newest version first.
 */
export function findPostgresBinDir(): string | undefined {
  const fromEnv = process.env['PG_BIN_DIR'];
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
  const initdb = findBinary('initdb', 'PG_INITDB_BIN');
  if (initdb && existsSync(join(initdb, '..', 'postgres'))) return join(initdb, '..');
  const debian = '/usr/lib/postgresql';
  if (!existsSync(debian)) return undefined;
  const versions = readdirSync(debian)
    .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(debian, versions[0], 'bin') : undefined;
}

export interface PostgresHandle {
  /** `postgres://parkpulse@127.0.0.1:<port>/postgres` (trust authentication on loopback). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly pid: number;
  /** Stops the server (SIGINT = fast shutdown; SIGKILL = a crash) and removes its data dir. */
  stop(signal?: 'SIGINT' | 'SIGKILL'): Promise<void>;
}

/**
 * A private PostgreSQL cluster for tests and the local demo: `initdb` in a temporary directory,
 * `postgres` on 127.0.0.1 and a free port, no Unix socket outside that directory, trust
 * authentication for the `parkpulse` superuser. PostgreSQL refuses to run as root: as root, the
 * cluster belongs to Debian's `postgres` user (or `nobody`).
 */
export async function startPostgres(
  options: { stdio?: 'ignore' | 'inherit' } = {},
): Promise<PostgresHandle> {
  const binDir = findPostgresBinDir();
  if (!binDir) throw new Error(POSTGRES_INSTALL_HINT);
  const dataDir = mkdtempSync(join(tmpdir(), 'parkpulse-postgres-'));
  const owner = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  if (owner) chownSync(dataDir, owner.uid, owner.gid);
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const init = spawnSync(
    join(binDir, 'initdb'),
    ['-D', join(dataDir, 'data'), '-U', 'parkpulse', '--auth=trust', '-E', 'UTF8', '--no-locale'],
    { ...asOwner, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  if (init.status !== 0) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`initdb failed (exit ${init.status}): ${init.stderr || init.error?.message}`);
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    join(binDir, 'postgres'),
    [
      '-D',
      join(dataDir, 'data'),
      '-p',
      String(port),
      '-h',
      '127.0.0.1',
      '-k',
      dataDir,
      // A test database: durability of the server itself is not under test.
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
    ],
    { ...asOwner, stdio: options.stdio ?? 'ignore', env: { ...process.env, LC_ALL: 'C' } },
  );
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      process.off('exit', orphanGuard);
      resolve();
    }),
  );
  const url = `postgres://parkpulse@127.0.0.1:${port}/postgres`;
  const stop = async (signal: 'SIGINT' | 'SIGKILL' = 'SIGINT') => {
    if (!exited) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(`postgres on 127.0.0.1:${port}`, async () => {
      if (exited) throw new Error('postgres exited during start-up');
      // Accepting TCP is not yet accepting sessions: the caller's first query retries anyway,
      // but a `pg_isready`-like probe keeps that out of every test.
      return (await tcpOpen(port)) && ready(binDir, port);
    });
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
  return { url, port, dataDir, pid: child.pid ?? -1, stop };
}

function unprivilegedUser(): { uid: number; gid: number } {
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { uid: Number(r.stdout), gid: Number(g.stdout) };
  }
  throw new Error('running as root, and neither a "postgres" nor a "nobody" user exists');
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function ready(binDir: string, port: number): boolean {
  const isReady = join(binDir, 'pg_isready');
  if (!existsSync(isReady)) return true;
  return spawnSync(isReady, ['-h', '127.0.0.1', '-p', String(port)]).status === 0;
}
