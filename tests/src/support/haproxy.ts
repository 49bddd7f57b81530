import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@parkpulse/dev-services';
import { connect } from 'node:net';

const INSTALL_HINT =
  'haproxy not found: install it (Debian/Ubuntu: apt-get install -y haproxy; `npm test` does this as root)';

export interface Haproxy {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Debian's HAProxy as the TCP load balancer in front of broker nodes (round robin, health checks
 * every 500 ms, a failed connection retried on another node), on a free loopback port.
 */
export async function startHaproxy(backends: readonly number[]): Promise<Haproxy> {
  const bin = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => existsSync(p));
  if (!bin) throw new Error(INSTALL_HINT);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'parkpulse-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 4096',
      'defaults',
      '  mode tcp',
      '  timeout connect 1s',
      '  timeout client 120s',
      '  timeout server 120s',
      '  retries 3',
      '  option redispatch',
      'frontend mqtt',
      `  bind 127.0.0.1:${port}`,
      '  default_backend brokers',
      'backend brokers',
      '  balance roundrobin',
      ...backends.map((p, i) => `  server b${i + 1} 127.0.0.1:${p} check inter 500 fall 1 rise 2`),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(bin, ['-f', config, '-db'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    'haproxy listening',
    () =>
      new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
        s.on('error', () => resolve(false));
      }),
    10_000,
    100,
  );
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
