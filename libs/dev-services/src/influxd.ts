import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort, waitFor } from './ports.js';

export const INFLUXD_INSTALL_HINT =
  'influxd (InfluxDB 1.x) is required. On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y influxdb ' +
  '(or run `npm test`, which installs it when it can); elsewhere install InfluxDB 1.6+ and put influxd on the PATH, ' +
  'or point INFLUXD_BIN at it.';

/** Finds the influxd binary: INFLUXD_BIN, the PATH, or Debian's /usr/bin. */
export function findInfluxd(): string | undefined {
  const candidates = [
    process.env['INFLUXD_BIN'],
    ...(process.env['PATH'] ?? '').split(delimiter).map((d) => join(d, 'influxd')),
    '/usr/bin/influxd',
  ];
  return candidates.find((c): c is string => !!c && existsSync(c));
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
  readonly pid: number;
  /** SIGSTOP/SIGCONT: an InfluxDB that hangs, for outage tests. */
  pause(): void;
  resume(): void;
  /** Stops influxd (SIGTERM, then SIGKILL after 10 s) and removes a temporary data dir. */
  stop(): Promise<void>;
}

/** Starts a private influxd 1.x on loopback and waits until it answers /ping. */
export async function startInfluxd(options: InfluxdOptions = {}): Promise<InfluxdHandle> {
  const bin = findInfluxd();
  if (!bin) throw new Error(INFLUXD_INSTALL_HINT);
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
  const child: ChildProcess = spawn(bin, ['-config', conf], {
    stdio: options.stdio ?? 'ignore',
    detached: options.ownProcessGroup ?? false,
  });
  let exited = false;
  // If the process that started it dies without stop() (a test timeout, Ctrl-C), influxd goes too.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      process.off('exit', orphanGuard);
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`influxd on ${url}`, async () => {
      if (exited) throw new Error('influxd exited during start-up');
      const res = await fetch(`${url}/ping`);
      return res.status === 204;
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    port,
    dataDir,
    pid: child.pid ?? -1,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      if (!exited) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(timer);
      }
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
