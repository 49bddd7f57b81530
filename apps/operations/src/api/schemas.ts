import { ALARM_ID_PATTERN, ALARM_PRIORITIES, ALARM_STATES } from '@parkpulse/alarms';
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
  .object({
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(256),
    ttlS: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('a shorter life than TOKEN_TTL_S, in seconds (a script asks for what it needs)'),
  })
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

// --- alarms ------------------------------------------------------------------------------------

const alarmStates = z.enum(ALARM_STATES);
const alarmPriorities = z.enum(ALARM_PRIORITIES);
const fieldValue = z.union([z.number(), z.boolean(), z.string()]).nullable();

export const AlarmIdParam = z
  .string()
  .regex(ALARM_ID_PATTERN, 'not an alarm id ({deviceId}.{tag})');

export const AcknowledgeRequest = z
  .object({
    comment: z.string().max(1000).optional(),
    activation: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        'The activation the operator saw; refused (409) when the alarm was raised again since',
      ),
  })
  .strict()
  .meta({ id: 'AcknowledgeRequest' });

export const ShelveRequest = z
  .object({
    reason: z.string().trim().min(1, 'a reason is required').max(500),
    durationS: z
      .number()
      .int()
      .min(1)
      .describe('Seconds until the shelf expires (at most ALARM_SHELVE_MAX_S)'),
  })
  .strict()
  .meta({ id: 'ShelveRequest' });

export const CommentRequest = z
  .object({ comment: z.string().trim().min(1, 'a comment is required').max(1000) })
  .strict()
  .meta({ id: 'CommentRequest' });

export const OptionalCommentRequest = z
  .object({ comment: z.string().max(1000).optional() })
  .strict()
  .meta({ id: 'OptionalCommentRequest' });

export const OutOfServiceRequest = z
  .object({ reason: z.string().trim().min(1, 'a reason is required').max(500) })
  .strict()
  .meta({ id: 'OutOfServiceRequest' });

export const Alarm = z
  .object({
    id: z.string(),
    definitionId: z.string(),
    name: z.string(),
    park: z.string(),
    site: z.string(),
    assetType: z.string(),
    deviceId: z.string(),
    state: alarmStates,
    priority: alarmPriorities,
    active: z.boolean().describe('the process condition (after deadband and delays)'),
    activation: z.number().int(),
    raisedAt: z.iso.datetime().nullable(),
    updatedAt: z.iso.datetime(),
    value: fieldValue,
    limit: z.number().nullable(),
    shelf: z.object({ until: z.iso.datetime(), by: z.string(), reason: z.string() }).nullable(),
    outOfService: z.object({ by: z.string(), reason: z.string() }).nullable(),
    consequence: z.string(),
    response: z.string(),
    acknowledgeable: z.boolean(),
  })
  .meta({ id: 'Alarm' });

export const AlarmHistoryEntry = z
  .object({
    at: z.iso.datetime(),
    by: z.string().describe('user name, or system'),
    action: z.string(),
    fromState: z.string(),
    toState: z.string(),
    comment: z.string(),
    value: fieldValue,
  })
  .meta({ id: 'AlarmHistoryEntry' });

export const AlarmDetail = Alarm.extend({ history: z.array(AlarmHistoryEntry) }).meta({
  id: 'AlarmDetail',
});

export const AlarmList = z.object({ alarms: z.array(Alarm) }).meta({ id: 'AlarmList' });

const countPct = z.object({ count: z.number(), percent: z.number() });
export const AlarmKpis = z
  .object({
    from: z.number(),
    to: z.number(),
    operators: z.number(),
    annunciated: z.number(),
    perOperatorPer10Min: z.object({ average: z.number(), peak: z.number() }),
    floods: z.object({
      count: z.number(),
      percentOfTime: z.number(),
      periods: z.array(z.object({ from: z.number(), to: z.number(), alarms: z.number() })),
    }),
    chattering: z.array(
      z.object({ alarmId: z.string(), name: z.string(), activations: z.number() }),
    ),
    stale: z.array(z.object({ alarmId: z.string(), name: z.string(), since: z.number() })),
    priorityMix: z.object({ critical: countPct, high: countPct, medium: countPct, low: countPct }),
    top10: z.array(
      z.object({ alarmId: z.string(), name: z.string(), count: z.number(), percent: z.number() }),
    ),
  })
  .meta({ id: 'AlarmKpis' });

export const AlarmDefinitionList = z
  .object({
    definitions: z.array(
      z.object({
        id: z.string(),
        assetType: z.string(),
        tag: z.string(),
        name: z.string(),
        source: z.record(z.string(), z.unknown()),
        priority: alarmPriorities,
        onDelayMs: z.number(),
        offDelayMs: z.number(),
        latched: z.boolean(),
        suppressedWhen: z.object({ metric: z.string(), values: z.array(z.string()) }).optional(),
        consequence: z.string(),
        response: z.string(),
      }),
    ),
  })
  .meta({ id: 'AlarmDefinitionList' });

export const StreamTicket = z
  .object({
    ticket: z.string().describe('pass as ?ticket= to GET /api/v1/alarms/stream'),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'StreamTicket' });

export const DeviceView = z
  .object({
    park: z.string(),
    site: z.string(),
    assetType: z.string(),
    deviceId: z.string(),
    online: z.boolean().nullable(),
    since: z.iso.datetime().nullable(),
    values: z.record(z.string(), z.object({ value: fieldValue, at: z.iso.datetime() })),
    events: z.array(
      z.object({
        at: z.iso.datetime(),
        code: z.string(),
        severity: z.string(),
        message: z.string(),
      }),
    ),
    alarms: z.array(Alarm),
    alarmHistory: z.array(AlarmHistoryEntry.extend({ alarmId: z.string() })),
  })
  .meta({ id: 'DeviceView' });

export const ConsoleConfig = z
  .object({
    grafanaUrl: z.string(),
    dashboards: z.array(z.object({ title: z.string(), url: z.string() })),
    shelveMaxS: z.number(),
  })
  .meta({ id: 'ConsoleConfig' });
