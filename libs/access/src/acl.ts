import { createHash, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import {
  COMMAND_DELIVERIES_TOPIC_ROOT,
  CONNECTIONS_TOPIC_ROOT,
  DEAD_LETTER_TOPIC_ROOT,
  DEVICE_ID_PATTERN,
  parseSparkplugTopic,
  SPARKPLUG_NAMESPACE,
  TOPIC_ROOT,
} from '@parkpulse/telemetry';
import { derivedKeyMatches, parseSecretHash, sameSecret } from './keys.js';
import {
  inScope,
  type EnrolmentGroup,
  type RegisteredDevice,
  type Registry,
  type Role,
  type Scope,
  type SparkplugNodeEntry,
} from './registry.js';

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
      /** Fingerprint of the credential it was checked against (a reload compares it). */
      readonly credential: string;
    }
  | {
      readonly kind: 'service';
      readonly id: string;
      readonly role: Role;
      readonly credential: string;
    };

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
    | 'certificate_mismatch'
    | 'will_not_allowed';
  readonly message: string;
}

export type AuthResult =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly refusal: AuthRefusal };

/** What each role may publish and subscribe to (MQTT filters). */
export const ROLE_RIGHTS: Readonly<
  Record<Role, { readonly publish: readonly string[]; readonly subscribe: readonly string[] }>
> = {
  // The ingestion takes device messages over the broker's ingest link, not by subscribing; as
  // the Sparkplug host application it alone publishes STATE and commands to edge nodes.
  ingestion: {
    publish: [
      `${DEAD_LETTER_TOPIC_ROOT}/#`,
      `${SPARKPLUG_NAMESPACE}/STATE/+`,
      `${SPARKPLUG_NAMESPACE}/+/NCMD/+`,
      `${SPARKPLUG_NAMESPACE}/+/DCMD/+/+`,
    ],
    subscribe: [],
  },
  // Watchers, and the conformance tester: the broker's connection notices tell them what a
  // device asked for in its CONNECT (keep-alive, last will).
  observer: {
    publish: [],
    subscribe: [
      `${TOPIC_ROOT}/#`,
      `${DEAD_LETTER_TOPIC_ROOT}/#`,
      `${CONNECTIONS_TOPIC_ROOT}/#`,
      '$SYS/#',
      `${SPARKPLUG_NAMESPACE}/#`,
    ],
  },
  // A person's MQTT account watches like the observer and publishes nothing: commands go
  // through the operations service, which validates them against the catalogue and records who
  // sent them — a command published straight on a device's `…/cmd` would bypass both.
  operator: {
    publish: [],
    subscribe: [
      `${TOPIC_ROOT}/#`,
      `${DEAD_LETTER_TOPIC_ROOT}/#`,
      `${CONNECTIONS_TOPIC_ROOT}/#`,
      '$SYS/#',
      `${SPARKPLUG_NAMESPACE}/#`,
    ],
  },
  // The operations service: sends commands, reads presence and results, and the broker's
  // notices that a device acknowledged a command's delivery; its alarms read the devices'
  // telemetry and events (as a consumer; the ingestion stays the storage path) — nothing else.
  operations: {
    publish: [`${TOPIC_ROOT}/+/+/+/+/cmd`],
    subscribe: [
      `${TOPIC_ROOT}/+/+/+/+/status`,
      `${TOPIC_ROOT}/+/+/+/+/telemetry`,
      `${TOPIC_ROOT}/+/+/+/+/event`,
      `${TOPIC_ROOT}/+/+/+/+/cmd_result`,
      `${COMMAND_DELIVERIES_TOPIC_ROOT}/#`,
    ],
  },
};

/** The one channel that flows to a device. */
const DOWN_CHANNEL = 'cmd';

/**
 * Authentication and authorisation over a registry (docs/security.md):
 * - username = device id or service account id, password = device key or account secret;
 * - a device's client id must equal its id; a service account's must be its id or start
 *   with `{id}-` (several connections of one account);
 * - a device publishes only under its own `parks/{park}/{site}/{assetType}/{itsId}/…` within its
 *   enrolment (the up channels; a misspelt channel or extra level under its own path is let
 *   through to become a dead letter that says why), never on its own `…/cmd`, and subscribes only
 *   to its own `…/cmd`;
 * - a device that is a Sparkplug edge node of the registry also publishes its own
 *   `spBv1.0/{its group}/{NBIRTH|NDATA|NDEATH}/{itsId}` and
 *   `spBv1.0/{its group}/{DBIRTH|DDATA|DDEATH}/{itsId}/{a device it declares}`, and subscribes
 *   to its own NCMD / DCMD and to the host's STATE;
 * - service accounts do what their role allows (ROLE_RIGHTS).
 */
export class AccessControl {
  /** sha256 of the last secret that passed scrypt, per registered id (spares scrypt on reconnects). */
  private readonly verified = new Map<string, string>();
  /** Sparkplug edge nodes by their id (= their device id, username and client id). */
  private readonly edgeNodes: ReadonlyMap<string, SparkplugNodeEntry>;

  constructor(private readonly registry: Registry) {
    this.edgeNodes = new Map((registry.sparkplug?.nodes ?? []).map((n) => [n.node, n]));
  }

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
      const wrongId = this.serviceClientIdProblem(service.id, clientId);
      if (wrongId) return wrongId;
      const good =
        service.secret !== undefined
          ? sameSecret(secret, service.secret)
          : await this.checkHash(service.id, secret, service.secretHash ?? '');
      return good ? { ok: true, identity: this.serviceIdentity(service.id) } : badSecret();
    }

    if (clientId !== username)
      return refuse(2, 'client_id_mismatch', 'client id must equal the device id (the username)');
    const owner = this.ownerOf(clientId);
    if ('returnCode' in owner) return { ok: false, refusal: owner };
    const good =
      owner.kind === 'registered'
        ? await this.checkHash(clientId, secret, owner.device.keyHash)
        : derivedKeyMatches(secret, owner.group.key, clientId);
    return good ? { ok: true, identity: deviceIdentity(clientId, owner) } : badSecret();
  }

  /**
   * A client that presented a certificate the broker's CA signed, without a password: its
   * common name is its device id. The registry must still know the device; the client-id rules
   * are the same. Service accounts always log in with their secret.
   */
  authenticateCertificate(clientId: string, commonName: string, username?: string): AuthResult {
    if (username && username !== commonName)
      return refuse(
        4,
        'certificate_mismatch',
        `username must be the certificate's name "${commonName}"`,
      );
    if (this.registry.services.has(commonName))
      return refuse(4, 'no_credentials', 'service accounts log in with their secret');
    if (clientId !== commonName)
      return refuse(
        2,
        'client_id_mismatch',
        'client id must equal the device id (the certificate name)',
      );
    const owner = this.ownerOf(clientId);
    if ('returnCode' in owner) return { ok: false, refusal: owner };
    return { ok: true, identity: deviceIdentity(clientId, owner) };
  }

  /**
   * Whether an identity authenticated earlier still stands in this registry (after a reload):
   * the same account or device, owned the same way, with the same rights and the same
   * credential (a rotated group key or a new device key revokes it).
   */
  stillValid(identity: Identity): boolean {
    if (identity.kind === 'service') {
      const now = this.registry.services.has(identity.id)
        ? this.serviceIdentity(identity.id)
        : undefined;
      return (
        now !== undefined && now.role === identity.role && now.credential === identity.credential
      );
    }
    const owner = this.ownerOf(identity.id);
    if ('returnCode' in owner) return false;
    const now = deviceIdentity(identity.id, owner);
    return (
      now.via === identity.via &&
      now.credential === identity.credential &&
      JSON.stringify([now.parks, now.sites, now.assetTypes]) ===
        JSON.stringify([identity.parks, identity.sites, identity.assetTypes])
    );
  }

  /**
   * Who owns a device id: its registration, else the first enrolment group (in file order) whose
   * pattern covers it — only that group's key is accepted for it, so the holder of one group's
   * key cannot log in as (and take over the session of) another group's device. Ids reserved
   * for service accounts (`{serviceId}` and `{serviceId}-…`) are never device ids.
   */
  private ownerOf(id: string): DeviceOwner | AuthRefusal {
    if (!DEVICE_ID_PATTERN.test(id))
      return {
        returnCode: 2,
        reason: 'client_id_invalid',
        message: `a device id must match ${DEVICE_ID_PATTERN.source}`,
      };
    for (const service of this.registry.services.keys())
      if (id === service || id.startsWith(`${service}-`))
        return {
          returnCode: 2,
          reason: 'client_id_invalid',
          message: `"${service}" and "${service}-…" are service accounts' client ids`,
        };
    const device = this.registry.devices.get(id);
    if (device) return { kind: 'registered', device };
    const group = this.registry.groups.find((g) => !g.devicePattern || g.devicePattern.test(id));
    if (group) return { kind: 'group', group };
    return {
      returnCode: 5,
      reason: 'unknown_identity',
      message: `device "${id}" is not registered`,
    };
  }

  private serviceClientIdProblem(serviceId: string, clientId: string): AuthResult | undefined {
    if (clientId === serviceId || clientId.startsWith(`${serviceId}-`)) return undefined;
    return refuse(
      2,
      'client_id_mismatch',
      `client id must be "${serviceId}" or start with "${serviceId}-"`,
    );
  }

  private serviceIdentity(id: string): Identity & { kind: 'service' } {
    const service = this.registry.services.get(id)!;
    return {
      kind: 'service',
      id,
      role: service.role,
      credential: fingerprint(service.secretHash ?? service.secret ?? ''),
    };
  }

  /** Whether `identity` may publish on `topic` (a concrete topic, no wildcards). */
  mayPublish(identity: Identity, topic: string): boolean {
    if (identity.kind === 'service') return matchesAny(ROLE_LEVELS[identity.role].publish, topic);
    if (topic.startsWith(`${SPARKPLUG_NAMESPACE}/`))
      return this.edgeNodeMayPublish(identity, topic);
    const parts = topic.split('/');
    return (
      parts.length >= 6 &&
      parts[0] === TOPIC_ROOT &&
      parts[4] === identity.id &&
      // Its own command channel is the operators' to publish on.
      !(parts.length === 6 && parts[5] === DOWN_CHANNEL) &&
      this.deviceOwns(identity, parts)
    );
  }

  /**
   * Whether a message on `topic` may be delivered to `identity` (a second check behind the
   * subscription rules, for deliveries that bypass them, e.g. a session's stored queue).
   */
  mayReceive(identity: Identity, topic: string): boolean {
    if (identity.kind === 'service') return matchesAny(ROLE_LEVELS[identity.role].subscribe, topic);
    return this.maySubscribe(identity, topic);
  }

  /** Whether `identity` may subscribe to `filter` (which may hold wildcards). */
  maySubscribe(identity: Identity, filter: string): boolean {
    if (identity.kind === 'service')
      return ROLE_RIGHTS[identity.role].subscribe.some((f) => filterCovers(f, filter));
    if (filter.startsWith(`${SPARKPLUG_NAMESPACE}/`))
      return this.edgeNodeMaySubscribe(identity, filter);
    const parts = filter.split('/');
    return (
      parts.length === 6 &&
      parts[0] === TOPIC_ROOT &&
      parts[4] === identity.id &&
      parts[5] === 'cmd' &&
      this.deviceOwns(identity, parts)
    );
  }

  /** The registry's edge node `identity` is, when its enrolment covers the node's park and site. */
  private edgeNodeOf(identity: Identity & { kind: 'device' }): SparkplugNodeEntry | undefined {
    const node = this.edgeNodes.get(identity.id);
    if (!node || !inScope(identity.parks, node.park) || !inScope(identity.sites, node.site))
      return undefined;
    return node;
  }

  private edgeNodeMayPublish(identity: Identity & { kind: 'device' }, topic: string): boolean {
    const node = this.edgeNodeOf(identity);
    const t = parseSparkplugTopic(topic);
    if (!node || !t.ok || t.value.kind === 'state') return false;
    const v = t.value;
    if (v.group !== node.group || v.node !== identity.id) return false;
    if (v.kind === 'node') return v.verb === 'NBIRTH' || v.verb === 'NDATA' || v.verb === 'NDEATH';
    return (
      (v.verb === 'DBIRTH' || v.verb === 'DDATA' || v.verb === 'DDEATH') &&
      node.devices.some((d) => d.id === v.device)
    );
  }

  /**
   * An edge node's own commands: `spBv1.0/{group}/NCMD/{id}`, `…/DCMD/{id}/{device | + | #}`
   * (and `…/NCMD/{id}/#`, which Tahu's client asks for and matches the same topic), and the
   * host's `spBv1.0/STATE/{hostId}`, which an edge node watches before its BIRTH.
   */
  private edgeNodeMaySubscribe(identity: Identity & { kind: 'device' }, filter: string): boolean {
    const node = this.edgeNodeOf(identity);
    if (!node) return false;
    const [ns, group, verb, id, device, ...rest] = filter.split('/');
    if (ns !== SPARKPLUG_NAMESPACE || rest.length > 0) return false;
    if (group === 'STATE')
      return verb === (this.registry.sparkplug?.hostId ?? '') && id === undefined;
    if (group !== node.group || id !== identity.id) return false;
    if (verb === 'NCMD') return device === undefined || device === '#';
    if (verb === 'DCMD')
      return device === '+' || device === '#' || node.devices.some((d) => d.id === device);
    return false;
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
    const good = actual.length === h.hash.length && timingSafeEqual(actual, h.hash);
    if (good) this.verified.set(id, digest);
    return good;
  }
}

type DeviceOwner =
  | { readonly kind: 'registered'; readonly device: RegisteredDevice }
  | { readonly kind: 'group'; readonly group: EnrolmentGroup };

function deviceIdentity(id: string, owner: DeviceOwner): Identity & { kind: 'device' } {
  return owner.kind === 'registered'
    ? {
        kind: 'device',
        id,
        via: 'registered',
        parks: [owner.device.park],
        sites: [owner.device.site],
        assetTypes: [owner.device.assetType],
        credential: fingerprint(owner.device.keyHash),
      }
    : {
        kind: 'device',
        id,
        via: owner.group.id,
        parks: owner.group.parks,
        sites: owner.group.sites,
        assetTypes: owner.group.assetTypes,
        credential: fingerprint(owner.group.key.toString('base64')),
      };
}

/** A short, one-way fingerprint of a credential (never the credential itself). */
function fingerprint(credential: string): string {
  return createHash('sha256').update(credential).digest('base64url').slice(0, 16);
}

function badSecret(): AuthResult {
  return refuse(4, 'bad_secret', 'wrong key or secret');
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
  return levelsMatch(f.split('/'), t.split('/'));
}

/** The roles' filters split into levels once (deliveries to a service are checked one by one). */
const ROLE_LEVELS = Object.fromEntries(
  Object.entries(ROLE_RIGHTS).map(([role, rights]) => [
    role,
    {
      publish: rights.publish.map((f) => f.split('/')),
      subscribe: rights.subscribe.map((f) => f.split('/')),
    },
  ]),
) as Record<Role, { publish: string[][]; subscribe: string[][] }>;

function matchesAny(filters: readonly (readonly string[])[], topic: string): boolean {
  const tp = topic.split('/');
  return filters.some((fp) => levelsMatch(fp, tp));
}

function levelsMatch(fp: readonly string[], tp: readonly string[]): boolean {
  // [MQTT-4.7.2-1]: wildcards at the first level do not match `$` topics.
  if ((fp[0] === '#' || fp[0] === '+') && tp[0]?.startsWith('$')) return false;
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
