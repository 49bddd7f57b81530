#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { isTerminal, type CommandView } from '@parkpulse/commands';

/**
 * `parkpulse-ops` (`npm run ops -- …`): the operations API for scripts. Prints JSON; exits 0 on
 * success, 1 when the API refused (its error on stderr) or, with --wait, when the command did
 * not end `done`.
 */
const USAGE = `usage: npm run ops -- <command> [options]

  login --user <name> [--password <pw>]         print a bearer token (password also from PARKPULSE_OPS_PASSWORD)
  devices [--park p] [--site s] [--type t]      devices known to the service
  catalogue                                     the commands of every asset type
  send <deviceId> <name> [key=value …]          send a command (numbers and true/false are typed)
  send-all --park p [--site s] --type t <name> [key=value …]
                                                the same command to every matching device
  get <commandId>                               a command with its history
  list <deviceId> [--limit n]                   a device's commands, newest first
  cancel <commandId>                            cancel a command not yet sent
  add-user <name> --role viewer|operator|admin [--password <pw>]

options: --url (default $OPERATIONS_URL or http://127.0.0.1:9103), --token=<t> (default $PARKPULSE_OPS_TOKEN;
         write it with "=": a token may start with "-"),
         --ttl <seconds>, --wait (send: wait for the end; exit 1 unless done)`;

/** `level_pct=30 on=true mode=cooling` → typed parameters. */
export function parseParams(pairs: readonly string[]): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`parameter "${pair}" must be key=value`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    out[key] =
      raw === 'true'
        ? true
        : raw === 'false'
          ? false
          : raw !== '' && Number.isFinite(Number(raw))
            ? Number(raw)
            : raw;
  }
  return out;
}

class ApiFailure extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: process.env['OPERATIONS_URL'] ?? 'http://127.0.0.1:9103' },
      token: { type: 'string', default: process.env['PARKPULSE_OPS_TOKEN'] ?? '' },
      user: { type: 'string' },
      password: { type: 'string', default: process.env['PARKPULSE_OPS_PASSWORD'] ?? '' },
      park: { type: 'string' },
      site: { type: 'string' },
      type: { type: 'string' },
      role: { type: 'string' },
      limit: { type: 'string' },
      ttl: { type: 'string' },
      wait: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 1;
  }
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${values.url}${path}`, {
      method,
      headers: {
        ...(values.token ? { authorization: `Bearer ${values.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new ApiFailure(`${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));
  const ttl = values.ttl !== undefined ? { ttlS: Number(values.ttl) } : {};
  const waitFor = async (commands: CommandView[]): Promise<number> => {
    if (!values.wait) return 0;
    const final: CommandView[] = [];
    for (const c of commands) {
      let now = c;
      while (!isTerminal(now.state)) {
        await new Promise((r) => setTimeout(r, 250));
        now = await api<CommandView>('GET', `/api/v1/commands/${c.id}`);
      }
      final.push(now);
    }
    print(
      final.map((c) => ({
        id: c.id,
        deviceId: c.deviceId,
        state: c.state,
        reason: c.reason,
        result: c.result,
      })),
    );
    return final.every((c) => c.state === 'done') ? 0 : 1;
  };

  switch (command) {
    case 'login': {
      if (!values.user || !values.password) throw new Error('login needs --user and --password');
      const t = await api<{ token: string; expiresAt: string }>('POST', '/api/v1/auth/tokens', {
        username: values.user,
        password: values.password,
      });
      print(t);
      return 0;
    }
    case 'devices': {
      const q = new URLSearchParams();
      if (values.park) q.set('park', values.park);
      if (values.site) q.set('site', values.site);
      if (values.type) q.set('assetType', values.type);
      print(await api('GET', `/api/v1/devices${q.size ? `?${q.toString()}` : ''}`));
      return 0;
    }
    case 'catalogue':
      print(await api('GET', '/api/v1/catalogue/commands'));
      return 0;
    case 'send': {
      const [deviceId, name, ...pairs] = rest;
      if (!deviceId || !name) throw new Error('send needs <deviceId> <name>');
      const c = await api<CommandView>(
        'POST',
        `/api/v1/devices/${encodeURIComponent(deviceId)}/commands`,
        {
          name,
          params: parseParams(pairs),
          ...ttl,
        },
      );
      print(c);
      return waitFor([c]);
    }
    case 'send-all': {
      const [name, ...pairs] = rest;
      if (!name || !values.park || !values.type)
        throw new Error('send-all needs --park, --type and <name>');
      const r = await api<{ commands: CommandView[] }>('POST', '/api/v1/commands', {
        selector: {
          park: values.park,
          assetType: values.type,
          ...(values.site ? { site: values.site } : {}),
        },
        name,
        params: parseParams(pairs),
        ...ttl,
      });
      print(r);
      return waitFor(r.commands);
    }
    case 'get':
      print(await api('GET', `/api/v1/commands/${encodeURIComponent(rest[0] ?? '')}`));
      return 0;
    case 'list':
      print(
        await api(
          'GET',
          `/api/v1/devices/${encodeURIComponent(rest[0] ?? '')}/commands${values.limit ? `?limit=${values.limit}` : ''}`,
        ),
      );
      return 0;
    case 'cancel':
      print(await api('POST', `/api/v1/commands/${encodeURIComponent(rest[0] ?? '')}/cancel`));
      return 0;
    case 'add-user': {
      if (!rest[0] || !values.role || !values.password)
        throw new Error('add-user needs <name>, --role and --password');
      print(
        await api('POST', '/api/v1/users', {
          username: rest[0],
          role: values.role,
          password: values.password,
        }),
      );
      return 0;
    }
    default:
      throw new Error(`unknown command "${command}"\n${USAGE}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`parkpulse-ops: ${error.message}\n`);
      process.exit(1);
    },
  );
}
