import { createHash, scrypt as scryptCallback } from 'node:crypto';
import {
  DEAD_LETTER_TOPIC_ROOT,
  DEVICE_ID_PATTERN,
  TOPIC_ROOT,
  UP_CHANNELS,
} from '@parkpulse/telemetry';
import { deriveDeviceKey, parseSecretHash, sameSecret } from './keys.js';
import { inScope, type Registry, type Role, type Scope } from './registry.js';

/** Who a connection is, once authenticated. */
export type Identity =
  | {
      readonly kind: 'device';
      readonly id: string;
      /** Enrolment group id, or `registered` for an individually registered device. */
      readonly via: string;
      readonly parks: Scope;
      readonly sites: Scope;
      readonly assetTypes: Scope;
    }
  | { readonly kind: 'service'; readonly id: string; readonly role: Role };

/**
 * Why a CONNECT was refused, with its MQTT 3.1.1 CONNACK return code:
 * 2 identifier rejected, 4 bad user name or password, 5 not authorised.
 */
export interface AuthRefusal {
  readonly returnCode: 2 | 4 | 5;
  readonly reason:
    | 'no_credentials'
    | 'unknown_identity'
    | 'bad_secret'
    | 'client_id_mismatch'
    | 'client_id_invalid'
    | 'certificate_mismatch';
  readonly message: string;
}

export type AuthResult =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly refusal: AuthRefusal };

/** What each role may publish and subscribe to (MQTT filters). */
export const ROLE_RIGHTS: Readonly<
  Record<Role, { readonly publish: readonly string[]; readonly subscribe: readonly string[] }>
> = {
  ingestion: {
    publish: [`${DEAD_LETTER_TOPIC_ROOT}/#`],
    subscribe: [`${TOPIC_ROOT}/#`, '$SYS/parkpulse/brokers/+/stats'],
  },
  observer: {
    publish: [],
    subscribe: [`${TOPIC_ROOT}/#`, `${DEAD_LETTER_TOPIC_ROOT}/#`, '$SYS/#'],
  },
  operator: {
    publish: [`${TOPIC_ROOT}/+/+/+/+/cmd`],
    subscribe: [`${TOPIC_ROOT}/#`, `${DEAD_LETTER_TOPIC_ROOT}/#`, '$SYS/#'],
  },
};

const UP: ReadonlySet<string> = new Set(UP_CHANNELS);

/**
 * Authentication and authorisation over a registry (DESIGN.md "Security"):
 * - username = device id or service account id, password = device key or account secret;
 * - a device's client id must equal its id; a service account's must be its id or start
 *   with `{id}-` (several connections of one account);
 * - a device publishes only `parks/{park}/{site}/{assetType}/{itsId}/{telemetry|status|event}`
 *   within its enrolment, and subscribes only to its own `…/cmd`;
 * - service accounts do what their role allows (ROLE_RIGHTS).
 */
export class AccessControl {
  /** sha256 of the last secret that passed scrypt, per registered id (spares scrypt on reconnects). */
  private readonly verified = new Map<string, string>();

  constructor(private readonly registry: Registry) {}

  async authenticate(
    clientId: string,
    username: string | undefined,
    password: Buffer | string | undefined,
  ): Promise<AuthResult> {
    if (!username || password === undefined || password.length === 0)
      return refuse(
        4,
        'no_credentials',
        'a username (device id) and a password (key) are required',
      );
    const secret = typeof password === 'string' ? password : password.toString('utf8');

    const service = this.registry.services.get(username);
    if (service) {
      if (clientId !== service.id && !clientId.startsWith(`${service.id}-`))
        return refuse(
          2,
          'client_id_mismatch',
          `client id must be "${service.id}" or start with "${service.id}-"`,
        );
      const good =
        service.secret !== undefined
          ? sameSecret(secret, service.secret)
          : await this.checkHash(service.id, secret, service.secretHash ?? '');
      return good
        ? { ok: true, identity: { kind: 'service', id: service.id, role: service.role } }
        : refuse(4, 'bad_secret', 'wrong secret');
    }

    if (clientId !== username)
      return refuse(2, 'client_id_mismatch', 'client id must equal the device id (the username)');
    if (!DEVICE_ID_PATTERN.test(clientId))
      return refuse(2, 'client_id_invalid', `a device id must match ${DEVICE_ID_PATTERN.source}`);

    const device = this.registry.devices.get(username);
    if (device) {
      return (await this.checkHash(device.id, secret, device.keyHash))
        ? {
            ok: true,
            identity: {
              kind: 'device',
              id: device.id,
              via: 'registered',
              parks: [device.park],
              sites: [device.site],
              assetTypes: [device.assetType],
            },
          }
        : refuse(4, 'bad_secret', 'wrong device key');
    }

    const groups = this.registry.groups.filter(
      (g) => !g.devicePattern || g.devicePattern.test(username),
    );
    if (groups.length === 0)
      return refuse(5, 'unknown_identity', `device "${username}" is not registered`);
    for (const g of groups) {
      if (sameSecret(secret, deriveDeviceKey(g.key, username)))
        return {
          ok: true,
          identity: {
            kind: 'device',
            id: username,
            via: g.id,
            parks: g.parks,
            sites: g.sites,
            assetTypes: g.assetTypes,
          },
        };
    }
    return refuse(4, 'bad_secret', 'wrong device key');
  }

  /**
   * A client that presented a certificate the broker's CA signed, without a password: its
   * common name is its id. The registry must still know it (a service account, a registered
   * device, or a group whose device pattern covers it); the client-id rules are the same.
   */
  authenticateCertificate(clientId: string, commonName: string, username?: string): AuthResult {
    if (username && username !== commonName)
      return refuse(
        4,
        'certificate_mismatch',
        `username must be the certificate's name "${commonName}"`,
      );
    const service = this.registry.services.get(commonName);
    if (service) {
      if (clientId !== service.id && !clientId.startsWith(`${service.id}-`))
        return refuse(
          2,
          'client_id_mismatch',
          `client id must be "${service.id}" or start with "${service.id}-"`,
        );
      return { ok: true, identity: { kind: 'service', id: service.id, role: service.role } };
    }
    if (clientId !== commonName)
      return refuse(
        2,
        'client_id_mismatch',
        'client id must equal the device id (the certificate name)',
      );
    if (!DEVICE_ID_PATTERN.test(clientId))
      return refuse(2, 'client_id_invalid', `a device id must match ${DEVICE_ID_PATTERN.source}`);
    const device = this.registry.devices.get(commonName);
    if (device)
      return {
        ok: true,
        identity: {
          kind: 'device',
          id: device.id,
          via: 'registered',
          parks: [device.park],
          sites: [device.site],
          assetTypes: [device.assetType],
        },
      };
    const group = this.registry.groups.find(
      (g) => !g.devicePattern || g.devicePattern.test(commonName),
    );
    if (!group) return refuse(5, 'unknown_identity', `device "${commonName}" is not registered`);
    return {
      ok: true,
      identity: {
        kind: 'device',
        id: commonName,
        via: group.id,
        parks: group.parks,
        sites: group.sites,
        assetTypes: group.assetTypes,
      },
    };
  }

  /** Whether `identity` may publish on `topic` (a concrete topic, no wildcards). */
  mayPublish(identity: Identity, topic: string): boolean {
    if (identity.kind === 'service')
      return ROLE_RIGHTS[identity.role].publish.some((f) => topicMatches(f, topic));
    const parts = topic.split('/');
    return (
      parts.length === 6 &&
      parts[0] === TOPIC_ROOT &&
      parts[4] === identity.id &&
      UP.has(parts[5] ?? '') &&
      this.deviceOwns(identity, parts)
    );
  }

  /** Whether `identity` may subscribe to `filter` (which may hold wildcards). */
  maySubscribe(identity: Identity, filter: string): boolean {
    if (identity.kind === 'service')
      return ROLE_RIGHTS[identity.role].subscribe.some((f) => filterCovers(f, filter));
    const parts = filter.split('/');
    return (
      parts.length === 6 &&
      parts[0] === TOPIC_ROOT &&
      parts[4] === identity.id &&
      parts[5] === 'cmd' &&
      this.deviceOwns(identity, parts)
    );
  }

  private deviceOwns(identity: Identity & { kind: 'device' }, parts: readonly string[]): boolean {
    const [, park = '', site = '', assetType = ''] = parts;
    // Wildcards are never a device's own address.
    if ([park, site, assetType].some((l) => l === '+' || l === '#' || l === '')) return false;
    return (
      inScope(identity.parks, park) &&
      inScope(identity.sites, site) &&
      inScope(identity.assetTypes, assetType)
    );
  }

  private async checkHash(id: string, secret: string, stored: string): Promise<boolean> {
    const digest = createHash('sha256').update(stored).update('\0').update(secret).digest('base64');
    if (this.verified.get(id) === digest) return true;
    const h = parseSecretHash(stored);
    const actual = await new Promise<Buffer>((resolve, reject) =>
      scryptCallback(
        secret,
        h.salt,
        h.hash.length,
        { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r + 1024 * 1024 },
        (error, key) => (error ? reject(error) : resolve(key)),
      ),
    );
    const good = actual.length === h.hash.length && actual.equals(h.hash);
    if (good) this.verified.set(id, digest);
    return good;
  }
}

function refuse(
  returnCode: AuthRefusal['returnCode'],
  reason: AuthRefusal['reason'],
  message: string,
): AuthResult {
  return { ok: false, refusal: { returnCode, reason, message } };
}

/** MQTT topic matching: does filter `f` match concrete topic `t`? */
export function topicMatches(f: string, t: string): boolean {
  const fp = f.split('/');
  const tp = t.split('/');
  // [MQTT-4.7.2-1]: wildcards at the first level do not match `$` topics.
  if ((fp[0] === '#' || fp[0] === '+') && t.startsWith('$')) return false;
  for (let i = 0; i < fp.length; i++) {
    if (fp[i] === '#') return true;
    if (i >= tp.length) return false;
    if (fp[i] !== '+' && fp[i] !== tp[i]) return false;
  }
  return fp.length === tp.length;
}

/** Does allowed filter `a` cover every topic that requested filter `r` can match? */
export function filterCovers(a: string, r: string): boolean {
  const ap = a.split('/');
  const rp = r.split('/');
  for (let i = 0; i < ap.length; i++) {
    if (ap[i] === '#') return true;
    if (i >= rp.length) return false;
    if (rp[i] === '#') return false;
    if (ap[i] === '+') continue;
    if (rp[i] === '+' || ap[i] !== rp[i]) return false;
  }
  return ap.length === rp.length;
}
