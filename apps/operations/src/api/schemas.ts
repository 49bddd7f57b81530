import { COMMAND_STATES, USER_ROLES } from '@parkpulse/commands';
import { DEVICE_ID_PATTERN, PARK_IDS, SITE_PATTERN } from '@parkpulse/telemetry';
import { z } from 'zod';
import { OperationsError } from './errors.js';

/**
 * The REST API's bodies and answers as zod schemas: requests are parsed with them at the edge,
 * and the OpenAPI document (openapi.ts) is generated from them, so the two never disagree.
 */
const paramValue = z.union([z.number(), z.boolean(), z.string()]);
const params = z.record(z.string(), paramValue);

export const TokenRequest = z
  .object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) })
  .strict()
  .meta({ id: 'TokenRequest' });

export const Token = z
  .object({
    token: z.string().describe('Bearer token: send as `Authorization: Bearer <token>`'),
    expiresAt: z.iso.datetime(),
    username: z.string(),
    role: z.enum(USER_ROLES),
  })
  .meta({ id: 'Token' });

export const NewUser = z
  .object({
    username: z.string().regex(/^[a-z][a-z0-9_.-]{1,31}$/, 'must match ^[a-z][a-z0-9_.-]{1,31}$'),
    password: z.string().min(12, 'at least 12 characters').max(256),
    role: z.enum(USER_ROLES),
  })
  .strict()
  .meta({ id: 'NewUser' });

export const User = z
  .object({ username: z.string(), role: z.enum(USER_ROLES), createdAt: z.iso.datetime() })
  .meta({ id: 'User' });

const ttlS = z
  .number()
  .int()
  .min(1)
  .optional()
  .describe(
    'Seconds until the command expires (default COMMAND_DEFAULT_TTL_S, at most COMMAND_MAX_TTL_S)',
  );

export const DeviceCommandRequest = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
    params: params.optional(),
    ttlS,
  })
  .strict()
  .meta({ id: 'DeviceCommandRequest' });

export const SelectionCommandRequest = z
  .object({
    selector: z
      .object({
        park: z.enum(PARK_IDS),
        site: z.string().regex(SITE_PATTERN).optional(),
        assetType: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
      })
      .strict(),
    name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
    params: params.optional(),
    ttlS,
  })
  .strict()
  .meta({ id: 'SelectionCommandRequest' });

export const HistoryEntry = z
  .object({
    state: z.enum(COMMAND_STATES),
    at: z.iso.datetime(),
    by: z.string().describe('user name, device:{id}, broker or system'),
    detail: z.string(),
  })
  .meta({ id: 'HistoryEntry' });

export const Command = z
  .object({
    id: z.string(),
    park: z.string(),
    site: z.string(),
    assetType: z.string(),
    deviceId: z.string(),
    name: z.string(),
    params,
    state: z.enum(COMMAND_STATES),
    createdBy: z.string(),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    result: params,
    reason: z.string(),
    history: z.array(HistoryEntry),
  })
  .meta({ id: 'Command' });

export const CommandList = z.object({ commands: z.array(Command) }).meta({ id: 'CommandList' });

export const Device = z
  .object({
    park: z.string(),
    site: z.string(),
    assetType: z.string(),
    deviceId: z.string(),
    online: z.boolean(),
    since: z.iso.datetime(),
  })
  .meta({ id: 'Device' });

export const DeviceList = z.object({ devices: z.array(Device) }).meta({ id: 'DeviceList' });

const paramSpec = z.union([
  z.object({
    kind: z.literal('number'),
    unit: z.string(),
    min: z.number(),
    max: z.number(),
    integer: z.boolean().optional(),
    description: z.string(),
  }),
  z.object({ kind: z.literal('boolean'), description: z.string() }),
  z.object({ kind: z.literal('enum'), values: z.array(z.string()), description: z.string() }),
]);

export const CommandCatalogue = z
  .object({
    assetTypes: z.record(
      z.string(),
      z.record(
        z.string(),
        z.object({
          description: z.string(),
          params: z.record(z.string(), paramSpec),
          typicalDurationS: z.number(),
        }),
      ),
    ),
  })
  .meta({ id: 'CommandCatalogue' });

export const ApiErrorBody = z
  .object({
    statusCode: z.number().int(),
    error: z.string().describe('stable code, e.g. param_out_of_range, unknown_device, forbidden'),
    message: z.string(),
  })
  .meta({ id: 'Error' });

export const DeviceIdParam = z.string().regex(DEVICE_ID_PATTERN);

/** Parses a request part with a schema; every problem listed in one 400. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new OperationsError(
    'invalid_request',
    r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
  );
}
