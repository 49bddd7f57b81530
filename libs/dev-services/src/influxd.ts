import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { freePort, waitFor } from './ports.js';

export const INFLUXD_INSTALL_HINT =
  'influxd (InfluxDB 1.x) is required. On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y influxdb ' +
  '(or run `npm test`, which installs it when it can); elsewhere install InfluxDB 1.6+ and put influxd on the PATH, ' +
  'or point INFLUXD_BIN at it.';

/** Finds the influxd binary: INFLUXD_BIN, the PATH, or Debian's /usr/bin. */
export function findInfluxd(): string | undefined {
  return findBinary('influxd', 'INFLUXD_BIN');
}

export interface InfluxdOptions {
  /** Data directory; a fresh temporary one (removed on stop) when omitted. */
  dataDir?: string;
  /** HTTP port; a free one when omitted. */
  port?: number;
  /** Where influxd's own output goes: 'ignore' (default) or 'inherit'. */
  stdio?: 'ignore' | 'inherit';
  /**
   * Run influxd in its own process group, so that a Ctrl-C in the terminal reaches only the
   * parent, which can then stop its services in order (influxd last).
   */
  ownProcessGroup?: boolean;
}

export interface InfluxdHandle {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Pid of the running influxd (of the last one after `halt`). */
  readonly pid: number;
  /** SIGSTOP/SIGCONT: an InfluxDB that hangs, for outage tests. */
  pause(): void;
  resume(): void;
  /**
   * Stops influxd like an operator would (SIGTERM, then SIGKILL after 10 s; or `signal`) and keeps
   * its data dir: an InfluxDB that is really down (connections refused), until `restart`.
   */
  halt(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts influxd again on the same port and data dir, and waits until it answers /ping. */
  restart(): Promise<void>;
  /** Stops influxd (SIGTERM, then SIGKILL after 10 s) and removes a temporary data dir. */
  stop(): Promise<void>;
}

interface RunningInfluxd {
  readonly child: ChildProcess;
  readonly exit: Promise<void>;
  exited: boolean;
}

/** Starts a private influxd 1.x on loopback and waits until it answers /ping. */
export async function startInfluxd(options: InfluxdOptions = {}): Promise<InfluxdHandle> {
  const found = findInfluxd();
  if (!found) throw new Error(INFLUXD_INSTALL_HINT);
  const bin: string = found;
  const temporary = !options.dataDir;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'parkpulse-influxd-')));
  await mkdir(dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const rpcPort = await freePort();
  const conf = join(dataDir, 'influxd.conf');
  await writeFile(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(dataDir, 'meta')}"`,
      '[data]',
      `  dir = "${join(dataDir, 'data')}"`,
      `  wal-dir = "${join(dataDir, 'wal')}"`,
      '  query-log-enabled = false',
      '[http]',
      '  enabled = true',
      `  bind-address = "127.0.0.1:${port}"`,
      '  log-enabled = false',
      '  auth-enabled = false',
      '  max-body-size = 0',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  log-enabled = false',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;

  async function launch(): Promise<RunningInfluxd> {
    const child: ChildProcess = spawn(bin, ['-config', conf], {
      stdio: options.stdio ?? 'ignore',
      detached: options.ownProcessGroup ?? false,
    });
    // If the process that started it dies without stop() (a test timeout, Ctrl-C), influxd goes too.
    const orphanGuard = () => child.kill('SIGKILL');
    process.once('exit', orphanGuard);
    const running: RunningInfluxd = {
      child,
      exited: false,
      exit: new Promise<void>((resolve) =>
        child.once('exit', () => {
          running.exited = true;
          process.off('exit', orphanGuard);
          resolve();
        }),
      ),
    };
    try {
      await waitFor(`influxd on ${url}`, async () => {
        if (running.exited) throw new Error('influxd exited during start-up');
        const res = await fetch(`${url}/ping`);
        return res.status === 204;
      });
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return running;
  }

  async function halt(running: RunningInfluxd, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    if (running.exited) return;
    running.child.kill('SIGCONT');
    running.child.kill(signal);
    const timer = setTimeout(() => running.child.kill('SIGKILL'), 10_000);
    await running.exit;
    clearTimeout(timer);
  }

  let current = await launch();
  return {
    url,
    port,
    dataDir,
    get pid() {
      return current.child.pid ?? -1;
    },
    pause: () => current.child.kill('SIGSTOP'),
    resume: () => current.child.kill('SIGCONT'),
    halt: (signal = 'SIGTERM') => halt(current, signal),
    async restart() {
      await halt(current, 'SIGTERM');
      current = await launch();
    },
    async stop() {
      await halt(current, 'SIGTERM');
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
