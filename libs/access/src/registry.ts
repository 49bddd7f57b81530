import {
  ASSET_TYPES,
  DEVICE_ID_PATTERN,
  getAssetType,
  METRIC_NAME_PATTERN,
  PARKS,
  SITE_PATTERN,
  SPARKPLUG_ID_PATTERN,
} from '@parkpulse/telemetry';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { decodeGroupKey, parseSecretHash } from './keys.js';

/**
 * What a service account may do. Devices have no role: their rights follow from their
 * enrolment (see acl.ts).
 */
export const ROLES = ['ingestion', 'observer', 'operator', 'operations'] as const;
export type Role = (typeof ROLES)[number];

/** `*` or a list of allowed values. */
export type Scope = '*' | readonly string[];

/** Devices whose keys are derived from one group key (no row per device). */
export interface EnrolmentGroup {
  readonly id: string;
  /** Environment variable holding the group key (base64, ≥ 32 bytes). */
  readonly keyEnv: string;
  /** The group key itself, read from `keyEnv`. */
  readonly key: Buffer;
  readonly parks: Scope;
  readonly sites: Scope;
  readonly assetTypes: Scope;
  /** Device ids this group may issue keys for (anchored); all when absent. */
  readonly devicePattern?: RegExp;
}

/** A device registered on its own, with an scrypt hash of its key. */
export interface RegisteredDevice {
  readonly id: string;
  readonly park: string;
  readonly site: string;
  readonly assetType: string;
  readonly keyHash: string;
}

export interface ServiceAccount {
  readonly id: string;
  readonly role: Role;
  /** Either the secret from an environment variable… */
  readonly secretEnv?: string;
  readonly secret?: string;
  /** …or an scrypt hash in the file. */
  readonly secretHash?: string;
}

/** A Sparkplug device carried by an edge node, and what it is in ParkPulse. */
export interface SparkplugDeviceEntry {
  /** Its Sparkplug device id (the fifth topic level). */
  readonly id: string;
  readonly assetType: string;
  /** Its ParkPulse device id (the `device` tag). */
  readonly deviceId: string;
  /** Its site, when not its edge node's. */
  readonly site?: string;
}

/**
 * A Sparkplug edge node. It logs in like a device: client id = username = `node` (a device id
 * of an enrolment group or a registered device, key and certificate rules alike), and
 * publishes only `spBv1.0/{group}/{N|D}{BIRTH,DATA,DEATH}/{node}[/{one of devices}]`.
 */
export interface SparkplugNodeEntry {
  readonly group: string;
  readonly node: string;
  readonly park: string;
  readonly site: string;
  /** What the edge node itself is (a line's PLC gateway: `production_line`). */
  readonly assetType: string;
  readonly deviceId: string;
  readonly devices: readonly SparkplugDeviceEntry[];
}

/** The `sparkplug:` section: the host id, the edge nodes, metric name tables (docs/sparkplug.md). */
export interface SparkplugRegistry {
  readonly hostId: string;
  readonly unmappedMetrics: 'store' | 'refuse';
  readonly nodes: readonly SparkplugNodeEntry[];
  /** Per asset type: Sparkplug metric name → catalogue metric name. */
  readonly metricNames: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface Registry {
  readonly version: 1;
  readonly groups: readonly EnrolmentGroup[];
  readonly devices: ReadonlyMap<string, RegisteredDevice>;
  readonly services: ReadonlyMap<string, ServiceAccount>;
  /** Absent when the file has no `sparkplug:` section. */
  readonly sparkplug?: SparkplugRegistry;
}

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must match [A-Za-z0-9_-]{1,64}');
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name');
const parkIds = PARKS.map((p) => p.id as string);
const assetTypeIds = ASSET_TYPES.map((a) => a.id);
const scope = (allowed: (v: string) => boolean, what: string) =>
  z.union([z.literal('*'), z.array(z.string().refine(allowed, { message: `not ${what}` })).min(1)]);

/** A Sparkplug id level: UTF-8 without `/ + #` and control characters (Sparkplug 3.0 topics). */
const sparkplugId = z
  .string()
  .regex(SPARKPLUG_ID_PATTERN, 'must be 1–128 characters without / + # or control characters');
const park = z.string().refine((v) => parkIds.includes(v), 'not a park of the catalogue');
const site = z.string().regex(SITE_PATTERN, `must match ${SITE_PATTERN.source}`);
const assetType = z
  .string()
  .refine((v) => assetTypeIds.includes(v), 'not an asset type of the catalogue');
const deviceId = z.string().regex(DEVICE_ID_PATTERN, `must match ${DEVICE_ID_PATTERN.source}`);

const sparkplugSchema = z
  .object({
    hostId: sparkplugId.default('parkpulse'),
    unmappedMetrics: z.enum(['store', 'refuse']).default('store'),
    nodes: z
      .array(
        z
          .object({
            group: sparkplugId,
            // the edge node's MQTT username and client id: a device id
            node: deviceId,
            park,
            site,
            assetType,
            deviceId,
            devices: z
              .array(
                z.object({ id: sparkplugId, assetType, deviceId, site: site.optional() }).strict(),
              )
              .default([]),
          })
          .strict(),
      )
      .default([]),
    metricNames: z
      .record(
        z.string().refine((v) => assetTypeIds.includes(v), 'not an asset type of the catalogue'),
        z.record(
          z.string().min(1),
          z.string().regex(METRIC_NAME_PATTERN, `must match ${METRIC_NAME_PATTERN.source}`),
        ),
      )
      .default({}),
  })
  .strict();

const fileSchema = z
  .object({
    version: z.literal(1),
    groups: z
      .array(
        z
          .object({
            id,
            keyEnv: envName,
            parks: scope((v) => parkIds.includes(v), 'a park of the catalogue'),
            sites: scope((v) => SITE_PATTERN.test(v), `a site (${SITE_PATTERN.source})`),
            assetTypes: scope((v) => assetTypeIds.includes(v), 'an asset type of the catalogue'),
            devicePattern: z.string().refine(isRegExp, 'must be a regular expression').optional(),
          })
          .strict(),
      )
      .default([]),
    devices: z
      .array(
        z
          .object({
            id: z.string().regex(DEVICE_ID_PATTERN, `must match ${DEVICE_ID_PATTERN.source}`),
            park: z.string().refine((v) => parkIds.includes(v), 'not a park of the catalogue'),
            site: z.string().regex(SITE_PATTERN, `must match ${SITE_PATTERN.source}`),
            assetType: z
              .string()
              .refine((v) => assetTypeIds.includes(v), 'not an asset type of the catalogue'),
            keyHash: z.string().refine(isSecretHash, 'must be scrypt$N$r$p$salt$hash'),
          })
          .strict(),
      )
      .default([]),
    services: z
      .array(
        z
          .object({
            id,
            role: z.enum(ROLES),
            secretEnv: envName.optional(),
            secretHash: z
              .string()
              .refine(isSecretHash, 'must be scrypt$N$r$p$salt$hash')
              .optional(),
          })
          .strict()
          .refine((s) => (s.secretEnv === undefined) !== (s.secretHash === undefined), {
            message: 'give exactly one of secretEnv and secretHash',
          }),
      )
      .default([]),
    sparkplug: sparkplugSchema.optional(),
  })
  .strict();

export type RegistryFile = z.input<typeof fileSchema>;

/**
 * Reads a registry file (YAML) and the secrets it names from `env`. Throws one error listing
 * every problem: schema errors, duplicate ids, missing or malformed secrets.
 */
export function parseRegistry(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
  options: { readonly requireSecrets?: boolean } = {},
): Registry {
  const requireSecrets = options.requireSecrets ?? true;
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new Error(`registry: not valid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
  const parsed = fileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new Error(`registry: invalid file:\n${lines.join('\n')}`);
  }
  const file = parsed.data;
  const problems: string[] = [];
  const secret = (name: string, what: string): string | undefined => {
    const value = env[name];
    if (!value && requireSecrets) problems.push(`${what}: environment variable ${name} is not set`);
    return value || undefined;
  };

  const groups: EnrolmentGroup[] = [];
  for (const g of file.groups) {
    const text = secret(g.keyEnv, `group ${g.id}`);
    let key: Buffer = Buffer.alloc(0);
    if (text !== undefined) {
      try {
        key = decodeGroupKey(text);
      } catch (error) {
        problems.push(`group ${g.id}: ${g.keyEnv}: ${(error as Error).message}`);
      }
    }
    groups.push({
      id: g.id,
      keyEnv: g.keyEnv,
      key,
      parks: g.parks,
      sites: g.sites,
      assetTypes: g.assetTypes,
      ...(g.devicePattern !== undefined
        ? { devicePattern: new RegExp(`^(?:${g.devicePattern})$`) }
        : {}),
    });
  }
  const devices = new Map<string, RegisteredDevice>();
  for (const d of file.devices) {
    if (devices.has(d.id)) problems.push(`device ${d.id}: listed twice`);
    devices.set(d.id, d);
  }
  const services = new Map<string, ServiceAccount>();
  for (const s of file.services) {
    if (services.has(s.id) || devices.has(s.id))
      problems.push(`service ${s.id}: id already used by another entry`);
    const value = s.secretEnv !== undefined ? secret(s.secretEnv, `service ${s.id}`) : undefined;
    services.set(s.id, {
      id: s.id,
      role: s.role,
      ...(s.secretEnv !== undefined ? { secretEnv: s.secretEnv } : {}),
      ...(value !== undefined ? { secret: value } : {}),
      ...(s.secretHash !== undefined ? { secretHash: s.secretHash } : {}),
    });
  }
  const groupIds = new Set<string>();
  for (const g of groups) {
    if (groupIds.has(g.id)) problems.push(`group ${g.id}: listed twice`);
    groupIds.add(g.id);
  }
  if (file.sparkplug) checkSparkplug(file.sparkplug, services, problems);
  if (problems.length > 0)
    throw new Error(`registry: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  return {
    version: 1,
    groups,
    devices,
    services,
    ...(file.sparkplug ? { sparkplug: file.sparkplug } : {}),
  };
}

/**
 * What the schema cannot see: an edge node id used twice (it is one MQTT identity), a
 * ParkPulse device id mapped twice in a park, a Sparkplug device listed twice under its node,
 * table targets that are not metrics of their asset type, an edge node id that is a service's.
 */
function checkSparkplug(
  sp: z.output<typeof sparkplugSchema>,
  services: ReadonlyMap<string, ServiceAccount>,
  problems: string[],
): void {
  const nodes = new Set<string>();
  const mapped = new Set<string>();
  for (const n of sp.nodes) {
    if (nodes.has(n.node)) problems.push(`sparkplug edge node ${n.node}: listed twice`);
    nodes.add(n.node);
    if (services.has(n.node))
      problems.push(`sparkplug edge node ${n.node}: id of a service account`);
    const ids = new Set<string>();
    for (const d of n.devices) {
      if (ids.has(d.id)) problems.push(`sparkplug device ${n.node}/${d.id}: listed twice`);
      ids.add(d.id);
    }
    for (const id of [n.deviceId, ...n.devices.map((d) => d.deviceId)]) {
      if (mapped.has(`${n.park}/${id}`))
        problems.push(`sparkplug: device ${id} is mapped twice in park ${n.park}`);
      mapped.add(`${n.park}/${id}`);
    }
  }
  for (const [type, table] of Object.entries(sp.metricNames)) {
    const spec = getAssetType(type);
    for (const [from, to] of Object.entries(table))
      if (spec && !Object.hasOwn(spec.metrics, to))
        problems.push(`sparkplug.metricNames.${type}."${from}": "${to}" is not a ${type} metric`);
  }
}

export function inScope(scope: Scope, value: string): boolean {
  return scope === '*' || scope.includes(value);
}

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

function isSecretHash(value: string): boolean {
  try {
    parseSecretHash(value);
    return true;
  } catch {
    return false;
  }
}

/** A device to register on its own (see `addDevice`). */
export interface NewDevice {
  readonly id: string;
  readonly park: string;
  readonly site: string;
  readonly assetType: string;
  readonly keyHash: string;
}

/**
 * The registry text with one more individually registered device, comments and layout kept.
 * Throws when the result would not be a valid registry (unknown park, duplicate id, …).
 */
export function addDevice(text: string, device: NewDevice): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`registry: not valid YAML: ${doc.errors[0]?.message}`);
  const current = parseRegistry(text, {}, { requireSecrets: false });
  if (current.devices.has(device.id) || current.services.has(device.id))
    throw new Error(`registry: "${device.id}" is already registered`);
  const entry = {
    id: device.id,
    park: device.park,
    site: device.site,
    assetType: device.assetType,
    keyHash: device.keyHash,
  };
  const list = doc.get('devices');
  if (
    list &&
    typeof list === 'object' &&
    'add' in list &&
    (list as { items?: unknown[] }).items?.length
  ) {
    doc.addIn(['devices'], doc.createNode(entry));
  } else {
    doc.set('devices', doc.createNode([entry]));
  }
  const next = doc.toString();
  parseRegistry(next, {}, { requireSecrets: false });
  return next;
}
