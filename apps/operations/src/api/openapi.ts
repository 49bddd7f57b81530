import { z } from 'zod';
import {
  AcknowledgeRequest,
  Alarm,
  AlarmDefinitionList,
  AlarmDetail,
  AlarmKpis,
  AlarmList,
  CommentRequest,
  ConsoleConfig,
  DeviceView,
  OptionalCommentRequest,
  OutOfServiceRequest,
  ShelveRequest,
  StreamTicket,
  ApiErrorBody,
  Command,
  CommandCatalogue,
  CommandList,
  DeviceCommandRequest,
  DeviceList,
  NewUser,
  SelectionCommandRequest,
  Token,
  TokenRequest,
  User,
} from './schemas.js';

/**
 * The REST API, one row per operation: the OpenAPI document is generated from this table and
 * the zod schemas the controllers parse with (openapi.spec.ts checks that the routes Nest
 * serves are exactly these, and that apps/operations/openapi.json is what this generates).
 */
export interface Operation {
  readonly method: 'get' | 'post';
  readonly path: string;
  readonly summary: string;
  /** The least role needed; undefined = public. */
  readonly role?: 'viewer' | 'operator' | 'admin';
  readonly body?: z.ZodType;
  readonly query?: Readonly<Record<string, string>>;
  readonly status: number;
  readonly response?: z.ZodType;
  /** Error statuses besides 401/403 (implied by `role`). */
  readonly errors: readonly number[];
}

export const OPERATIONS: readonly Operation[] = [
  {
    method: 'post',
    path: '/api/v1/auth/tokens',
    summary: 'Log in: a bearer token with an expiry (TOKEN_TTL_S)',
    body: TokenRequest,
    status: 201,
    response: Token,
    errors: [400, 401],
  },
  {
    method: 'post',
    path: '/api/v1/users',
    summary: 'Create a personal account (viewer, operator or admin)',
    role: 'admin',
    body: NewUser,
    status: 201,
    response: User,
    errors: [400, 409],
  },
  {
    method: 'get',
    path: '/api/v1/devices',
    summary: 'Devices known from their status, with presence; filter by park, site, asset type',
    role: 'viewer',
    query: { park: 'park id', site: 'site', assetType: 'asset type' },
    status: 200,
    response: DeviceList,
    errors: [],
  },
  {
    method: 'get',
    path: '/api/v1/catalogue/commands',
    summary: 'The commands each asset type accepts, with parameter types and ranges',
    role: 'viewer',
    status: 200,
    response: CommandCatalogue,
    errors: [],
  },
  {
    method: 'post',
    path: '/api/v1/devices/{deviceId}/commands',
    summary:
      'Send a command to one device (validated against the catalogue; queued until the device is online)',
    role: 'operator',
    body: DeviceCommandRequest,
    status: 202,
    response: Command,
    errors: [400, 404, 422],
  },
  {
    method: 'get',
    path: '/api/v1/devices/{deviceId}/commands',
    summary: "A device's commands, newest first",
    role: 'viewer',
    query: { limit: '1–500, default 50' },
    status: 200,
    response: CommandList,
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/api/v1/commands',
    summary:
      'Send a command to a selection (e.g. every street light of a site): one command per device',
    role: 'operator',
    body: SelectionCommandRequest,
    status: 202,
    response: CommandList,
    errors: [400, 404, 422],
  },
  {
    method: 'get',
    path: '/api/v1/commands/{id}',
    summary: 'A command: its state and every change, with who and when',
    role: 'viewer',
    status: 200,
    response: Command,
    errors: [404],
  },
  {
    method: 'post',
    path: '/api/v1/commands/{id}/cancel',
    summary: 'Cancel a command not yet sent to its device (state queued)',
    role: 'operator',
    status: 200,
    response: Command,
    errors: [404, 409],
  },
  {
    method: 'get',
    path: '/api/v1/devices/{deviceId}',
    summary:
      'A device: presence, last value of each metric, recent events, its alarms and their history',
    role: 'viewer',
    status: 200,
    response: DeviceView,
    errors: [400, 404],
  },
  {
    method: 'get',
    path: '/api/v1/alarms',
    summary:
      'Alarms not in normal (all=true: every alarm ever raised), by priority (critical first), then newest',
    role: 'viewer',
    query: {
      state:
        'one state (normal, unacknowledged, acknowledged, returned_unacknowledged, latched, shelved, suppressed, out_of_service)',
      priority: 'critical, high, medium or low',
      deviceId: 'one device',
      all: 'true: include alarms in normal',
    },
    status: 200,
    response: AlarmList,
    errors: [400],
  },
  {
    method: 'get',
    path: '/api/v1/alarms/kpis',
    summary:
      'ISA-18.2 figures: alarms per operator per 10 minutes, floods, chattering, stale, priority mix, top 10',
    role: 'viewer',
    query: { windowH: 'hours back, default 24' },
    status: 200,
    response: AlarmKpis,
    errors: [400],
  },
  {
    method: 'post',
    path: '/api/v1/alarms/stream-tickets',
    summary: 'A short-lived ticket for the live feed (EventSource cannot send a bearer header)',
    role: 'viewer',
    status: 201,
    response: StreamTicket,
    errors: [],
  },
  {
    method: 'get',
    path: '/api/v1/alarms/stream',
    summary:
      'Live feed (Server-Sent Events): an `alarm` event with the alarm on every change; ?ticket= from stream-tickets',
    query: { ticket: 'from POST /api/v1/alarms/stream-tickets (required)' },
    status: 200,
    errors: [401],
  },
  {
    method: 'get',
    path: '/api/v1/alarm-definitions',
    summary:
      'The alarm definitions (from the catalogue): limits, deadband, delays, priority, texts',
    role: 'viewer',
    status: 200,
    response: AlarmDefinitionList,
    errors: [],
  },
  {
    method: 'get',
    path: '/api/v1/alarms/{id}',
    summary: 'An alarm with its history: every transition and comment, with who and when',
    role: 'viewer',
    status: 200,
    response: AlarmDetail,
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/api/v1/alarms/{id}/acknowledge',
    summary:
      'Acknowledge (a latched alarm: reset); `activation` guards against acknowledging a newer activation unseen',
    role: 'operator',
    body: AcknowledgeRequest,
    status: 200,
    response: Alarm,
    errors: [400, 404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/alarms/{id}/shelve',
    summary:
      'Shelve: hidden until unshelved or the shelf expires; a reason and a duration (≤ ALARM_SHELVE_MAX_S) are required',
    role: 'operator',
    body: ShelveRequest,
    status: 200,
    response: Alarm,
    errors: [400, 404, 409, 422],
  },
  {
    method: 'post',
    path: '/api/v1/alarms/{id}/unshelve',
    summary: 'Unshelve: the alarm shows its condition again (active: unacknowledged)',
    role: 'operator',
    body: OptionalCommentRequest,
    status: 200,
    response: Alarm,
    errors: [400, 404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/alarms/{id}/comments',
    summary: "Add a comment to an alarm's history",
    role: 'operator',
    body: CommentRequest,
    status: 201,
    response: Alarm,
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/api/v1/alarms/{id}/out-of-service',
    summary: 'Take an alarm out of service (maintenance), with a reason',
    role: 'admin',
    body: OutOfServiceRequest,
    status: 200,
    response: Alarm,
    errors: [400, 404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/alarms/{id}/return-to-service',
    summary: 'Return an alarm to service',
    role: 'admin',
    body: OptionalCommentRequest,
    status: 200,
    response: Alarm,
    errors: [400, 404, 409],
  },
  {
    method: 'get',
    path: '/api/v1/console/config',
    summary: "The console's settings: Grafana dashboards to link to, the longest shelf",
    role: 'viewer',
    status: 200,
    response: ConsoleConfig,
    errors: [],
  },
  {
    method: 'get',
    path: '/health',
    summary:
      'Readiness: 200 when the database is migrated and the MQTT session subscribed, else 503',
    status: 200,
    errors: [503],
  },
  { method: 'get', path: '/health/live', summary: 'Liveness', status: 200, errors: [] },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', status: 200, errors: [] },
];

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request (error: invalid_request, params_invalid)',
  401: 'No valid bearer token, or wrong credentials (unauthenticated, bad_credentials)',
  403: 'The role is not enough (forbidden)',
  404: 'Unknown device, command, alarm or empty selection (unknown_device, unknown_command_id, unknown_alarm, no_devices)',
  409: 'Conflict (not_cancellable, user_exists, alarm_action_not_allowed, stale_acknowledgement, alarm_conflict)',
  422: 'Not a valid command for the asset type, or a shelf too long (unknown_command, param_out_of_range, param_missing, param_unknown, param_wrong_type, param_not_integer, param_not_in_enum, selection_too_large, shelve_too_long)',
  503: 'Not ready',
};

/** The OpenAPI 3.1 document of the API. Deterministic: the committed file must equal it. */
export function openApiDocument(version = '0.1.0'): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  const ref = (schema: z.ZodType) => {
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    const id = (z.globalRegistry.get(schema) as { id?: string } | undefined)?.id;
    const { $schema: _s, id: _id, ...rest } = json;
    if (!id) return rest;
    schemas[id] = rest;
    return { $ref: `#/components/schemas/${id}` };
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const params = [
      ...[...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...Object.entries(op.query ?? {}).map(([name, description]) => ({
        name,
        in: 'query',
        required: false,
        description,
        schema: { type: 'string' },
      })),
    ];
    const errors = [...new Set([...op.errors, ...(op.role ? [401, 403] : [])])].sort();
    const responses: Record<string, unknown> = {
      [String(op.status)]: {
        description: 'Success',
        ...(op.response ? { content: { 'application/json': { schema: ref(op.response) } } } : {}),
      },
    };
    for (const status of errors)
      responses[String(status)] = {
        description: ERROR_TEXT[status] ?? 'Error',
        content: { 'application/json': { schema: ref(ApiErrorBody) } },
      };
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      operationId: `${op.method}${op.path
        .replace(/[{}]/g, '')
        .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
        .replace(/[^A-Za-z0-9]/g, '')}`,
      ...(op.role ? { security: [{ bearer: [] }], 'x-required-role': op.role } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: ref(op.body) } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ParkPulse operations API',
      version,
      description:
        'Commands to devices, tracked queued → sent → delivered → accepted → done | failed | rejected | expired | cancelled; alarms with the ISA-18.2 lifecycle (acknowledge, shelve, out of service, KPIs, live feed). Accounts are personal; every change records who.',
    },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}
