import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ServiceProcess,
  freePort,
  serviceCredentials,
  startPostgres,
  waitFor,
  type PostgresHandle,
} from '@parkpulse/dev-services';
import type { CommandView } from '@parkpulse/commands';
import { ROOT, type Platform } from './platform.js';

export const OPERATIONS_MAIN = join(ROOT, 'apps/operations/dist/main.js');
export const ADMIN_PASSWORD = 'e2e-admin-password';

export interface ApiAnswer<T = unknown> {
  readonly status: number;
  readonly body: T;
}

export interface Operations {
  readonly url: string;
  readonly process: ServiceProcess;
  readonly database: 'sqlite' | 'postgres';
  /** Tokens of an admin, an operator (`olga`) and a viewer (`victor`). */
  readonly tokens: { readonly admin: string; readonly operator: string; readonly viewer: string };
  api<T = unknown>(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
  ): Promise<ApiAnswer<T>>;
  /** Polls a command until `until` holds for it. */
  waitForCommand(
    id: string,
    until: (c: CommandView) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<CommandView>;
  /** Waits until the service knows these devices (from their status). */
  waitForDevices(ids: readonly string[]): Promise<void>;
  /** kill -9, then a new process on the same port and database. */
  crashAndRestart(): Promise<void>;
  /** Kill -9 without a restart (then `start()`). */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The built operations service against a running platform, on SQLite or a private PostgreSQL. */
export async function startOperations(
  platform: Platform,
  database: 'sqlite' | 'postgres',
  env: Record<string, string> = {},
): Promise<Operations> {
  const dir = mkdtempSync(join(tmpdir(), 'parkpulse-ops-e2e-'));
  let pg: PostgresHandle | undefined;
  if (database === 'postgres') pg = await startPostgres();
  const port = await freePort();
  const account = serviceCredentials('parkpulse-operations');
  const url = `http://127.0.0.1:${port}`;
  const proc = new ServiceProcess(
    `operations-${database}`,
    OPERATIONS_MAIN,
    {
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      DATABASE_URL: pg ? pg.url : `sqlite:${join(dir, 'operations.sqlite')}`,
      MQTT_URL: platform.mqttUrl,
      MQTT_USERNAME: account.username,
      MQTT_PASSWORD: account.password,
      INFLUX_URL: platform.influx.url,
      INFLUX_API: 'v1',
      INFLUX_DATABASE: 'telemetry',
      ADMIN_PASSWORD,
      DISPATCH_INTERVAL_MS: '200',
      ...env,
    },
    `${url}/health`,
  );
  await proc.start();

  async function api<T>(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
  ): Promise<ApiAnswer<T>> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
  const login = async (username: string, password: string) => {
    const r = await api<{ token: string }>('POST', '/api/v1/auth/tokens', undefined, {
      username,
      password,
    });
    if (r.status !== 201)
      throw new Error(`log-in of ${username}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token;
  };
  const admin = await login('admin', ADMIN_PASSWORD);
  for (const [username, role] of [
    ['olga', 'operator'],
    ['victor', 'viewer'],
  ] as const) {
    const r = await api('POST', '/api/v1/users', admin, {
      username,
      password: `${username}-password-1`,
      role,
    });
    if (r.status !== 201)
      throw new Error(`creating ${username}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const tokens = {
    admin,
    operator: await login('olga', 'olga-password-1'),
    viewer: await login('victor', 'victor-password-1'),
  };

  return {
    url,
    process: proc,
    database,
    tokens,
    api,
    async waitForCommand(id, until, what, timeoutMs = 60_000) {
      let last: CommandView | undefined;
      try {
        await waitFor(
          `command ${id} ${what}`,
          async () => {
            const r = await api<CommandView>('GET', `/api/v1/commands/${id}`, tokens.viewer);
            last = r.body;
            return r.status === 200 && until(r.body);
          },
          timeoutMs,
          100,
        );
      } catch {
        throw new Error(
          `command ${id} never ${what}; last: ${JSON.stringify(last)}\nservice log:\n${proc.tail()}`,
        );
      }
      return last!;
    },
    async waitForDevices(ids) {
      await waitFor(`devices ${ids.join(', ')} known`, async () => {
        const r = await api<{ devices: { deviceId: string; online: boolean }[] }>(
          'GET',
          '/api/v1/devices',
          tokens.viewer,
        );
        return ids.every((id) => r.body.devices.some((d) => d.deviceId === id && d.online));
      });
    },
    async crashAndRestart() {
      await proc.stop('SIGKILL');
      await proc.start();
    },
    async kill() {
      await proc.stop('SIGKILL');
    },
    start: () => proc.start(),
    async stop() {
      await proc.stop();
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
