import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { freePort, waitFor } from './ports.js';

export const REDIS_INSTALL_HINT =
  'redis-server is required. On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y redis-server ' +
  '(or run `npm test`, which installs it when it can); elsewhere install Redis 6+ and put redis-server on the PATH, ' +
  'or point REDIS_SERVER_BIN at it.';

/** Finds the redis-server binary: REDIS_SERVER_BIN, the PATH, or Debian's /usr/bin. */
export function findRedisServer(): string | undefined {
  return findBinary('redis-server', 'REDIS_SERVER_BIN');
}

export interface RedisServerOptions {
  /** Data directory (append-only file); a fresh temporary one (removed on stop) when omitted. */
  dataDir?: string;
  /** TCP port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Where redis-server's own output goes: 'ignore' (default) or 'inherit'. */
  stdio?: 'ignore' | 'inherit';
}

export interface RedisHandle {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly pid: number;
  /** SIGSTOP/SIGCONT: a Redis that hangs, for outage tests. */
  pause(): void;
  resume(): void;
  /**
   * Stops redis-server (SIGTERM, then SIGKILL after 10 s; `'SIGKILL'`: at once, a crash) and
   * removes a temporary data dir. Start it again on the same port and data dir with
   * `startRedis({ port, dataDir })` (a data dir that was given is kept).
   */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/**
 * Starts a private redis-server on 127.0.0.1 (its own config, data dir and port, append-only
 * file fsync'ed every second, no RDB snapshots) and waits until it answers PING. Debian's
 * `redis-server` package also starts a system Redis on 6379: this one never uses that.
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisHandle> {
  const bin = findRedisServer();
  if (!bin) throw new Error(REDIS_INSTALL_HINT);
  const temporary = !options.dataDir;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'parkpulse-redis-')));
  await mkdir(dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const conf = join(dataDir, 'redis.conf');
  await writeFile(
    conf,
    [
      'bind 127.0.0.1',
      `port ${port}`,
      'protected-mode yes',
      'daemonize no',
      `dir "${dataDir}"`,
      'logfile ""',
      'save ""',
      'appendonly yes',
      'appendfsync everysec',
      'databases 1',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(bin, [conf], { stdio: options.stdio ?? 'ignore' });
  let exited = false;
  // If the process that started it dies without stop() (a test timeout, Ctrl-C), Redis goes too.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      process.off('exit', orphanGuard);
      resolve();
    }),
  );
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitFor(`redis-server on ${url}`, async () => {
      if (exited) throw new Error(`redis-server exited during start-up (port ${port} taken?)`);
      return (await redisCommand(port, 'PING')) === '+PONG';
    });
  } catch (error) {
    child.kill('SIGKILL');
    await exit;
    if (temporary) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    dataDir,
    pid: child.pid ?? -1,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop(signal = 'SIGTERM') {
      if (!exited) {
        child.kill('SIGCONT');
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(timer);
      }
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Sends one inline command (e.g. `PING`, `DBSIZE`) to the Redis on 127.0.0.1:`port` and returns
 * its first reply line (`+PONG`, `:42`); rejects when nothing answers within `timeoutMs`.
 */
export function redisCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (error: Error | undefined, line?: string) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(line ?? '');
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no reply from redis on port ${port}`)));
    socket.once('error', (error) => done(error));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      const end = reply.indexOf('\r\n');
      if (end >= 0) done(undefined, reply.slice(0, end));
    });
    socket.once('connect', () => socket.write(`${command}\r\n`));
  });
}
