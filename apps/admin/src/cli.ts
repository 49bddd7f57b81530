import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  addDevice,
  deriveDeviceKey,
  hashSecret,
  newGroupKey,
  parseRegistry,
} from '@parkpulse/access';

export const HELP = `parkpulse-admin — the device and service registry

Usage: parkpulse-admin <command> [options]   (npm run admin -- <command> …)

Commands:
  issue-key --group <id> --device <device-id>
      print the key of a device of an enrolment group (the group key comes from the
      environment variable the registry names for that group)
  add-device --id <device-id> --park <park> --site <site> --asset-type <type> [--key <key>]
      register a device on its own: a new random key (printed once) or --key, stored as an
      scrypt hash; then send the broker SIGHUP (or restart it) to load it
  new-group-key
      print a new random group key (32 bytes, base64) for an enrolment group
  hash-secret
      read a secret from standard input, print its scrypt hash (service accounts' secretHash)
  check
      load the registry with the secrets from the environment and summarise it

Options:
  --registry <file>   the registry (default: $REGISTRY_FILE or deploy/registry/registry.yaml)
  -h, --help          this text
`;

export interface Io {
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly readStdin: () => string;
}

/** Runs one command; returns the exit code (0 ok, 1 failed, 2 usage). */
export function main(argv: readonly string[], io: Io): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        registry: { type: 'string' },
        group: { type: 'string' },
        device: { type: 'string' },
        id: { type: 'string' },
        park: { type: 'string' },
        site: { type: 'string' },
        'asset-type': { type: 'string' },
        key: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.out(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || !command) {
    io.out(HELP);
    return values.help ? 0 : 2;
  }
  const file = values.registry ?? io.env['REGISTRY_FILE'] ?? 'deploy/registry/registry.yaml';
  const need = (name: keyof typeof values): string => {
    const value = values[name];
    if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
    return value;
  };

  try {
    switch (command) {
      case 'new-group-key':
        io.out(`${newGroupKey()}\n`);
        return 0;
      case 'hash-secret': {
        const secret = io.readStdin().replace(/\r?\n$/, '');
        if (secret.length < 16) throw new Error('a secret needs at least 16 characters');
        io.out(`${hashSecret(secret)}\n`);
        return 0;
      }
      case 'issue-key': {
        const groupId = need('group');
        const deviceId = need('device');
        const registry = parseRegistry(readFileSync(file, 'utf8'), io.env, {
          requireSecrets: false,
        });
        const group = registry.groups.find((g) => g.id === groupId);
        if (!group) throw new Error(`${file}: no enrolment group "${groupId}"`);
        if (group.devicePattern && !group.devicePattern.test(deviceId))
          throw new Error(`group "${groupId}" does not cover device id "${deviceId}"`);
        const groupKey = io.env[group.keyEnv];
        if (!groupKey)
          throw new Error(`${group.keyEnv} (the key of group "${groupId}") is not set`);
        io.out(`${deriveDeviceKey(groupKey, deviceId)}\n`);
        return 0;
      }
      case 'add-device': {
        const key = values.key ?? randomBytes(24).toString('base64url');
        const device = {
          id: need('id'),
          park: need('park'),
          site: need('site'),
          assetType: need('asset-type'),
          keyHash: hashSecret(key),
        };
        const next = addDevice(readFileSync(file, 'utf8'), device);
        // Written next to it, then renamed: a crash never leaves half a registry.
        writeFileSync(`${file}.tmp`, next);
        renameSync(`${file}.tmp`, file);
        io.out(
          `registered ${device.id} (${device.park}/${device.site}/${device.assetType}) in ${file}\n` +
            (values.key ? '' : `key (shown once): ${key}\n`) +
            'reload the broker: kill -HUP <broker pid> (or restart it)\n',
        );
        return 0;
      }
      case 'check': {
        const registry = parseRegistry(readFileSync(file, 'utf8'), io.env);
        io.out(
          `${file}: ${registry.groups.length} enrolment group(s), ${registry.devices.size} registered device(s), ${registry.services.size} service account(s); every secret set\n`,
        );
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.out(`${error.message}\n\n${HELP}`);
      return 2;
    }
    io.out(`parkpulse-admin: ${(error as Error).message}\n`);
    return 1;
  }
}

class UsageError extends Error {}
