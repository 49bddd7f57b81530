import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { env, parseEnv } from '@parkpulse/config';
import { DEFAULT_INFLUX_CONFIG, type InfluxConfig } from '@parkpulse/influx';
import { z } from 'zod';

const schema = z.object({
  HTTP_PORT: env.port(9103),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  // `sqlite:` + a file path (relative to the working directory), or a postgres:// URL.
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:<file> or postgres://…')
    .default('sqlite:.data/operations.sqlite'),
  MQTT_URL: z
    .string()
    .regex(/^mqtts?:\/\/[^/]+$/, 'must look like mqtt://host:port or mqtts://host:port')
    .default('mqtt://127.0.0.1:1883'),
  MQTT_CLIENT_ID: z.string().min(1).max(64).default('parkpulse-operations'),
  MQTT_USERNAME: z.string().default('parkpulse-operations'),
  MQTT_PASSWORD: z.string().default(''),
  INFLUX_URL: z.string().default(DEFAULT_INFLUX_CONFIG.url),
  INFLUX_API: z.enum(['v1', 'v2']).default(DEFAULT_INFLUX_CONFIG.api),
  INFLUX_DATABASE: z.string().min(1).default(DEFAULT_INFLUX_CONFIG.database),
  INFLUX_USERNAME: z.string().default(''),
  INFLUX_PASSWORD: z.string().default(''),
  INFLUX_TOKEN: z.string().default(''),
  INFLUX_ORG: z.string().default(DEFAULT_INFLUX_CONFIG.org),
  INFLUX_BUCKET: z.string().default(DEFAULT_INFLUX_CONFIG.bucket),
  COMMAND_RECORDS_INFLUX: env.bool(true),
  TOKEN_TTL_S: env.int(8 * 3600, 60),
  COMMAND_DEFAULT_TTL_S: env.int(300, 1),
  COMMAND_MAX_TTL_S: env.int(24 * 3600, 1),
  REDELIVER_AFTER_MS: env.int(10_000, 100),
  DISPATCH_INTERVAL_MS: env.int(500, 20),
  MAX_SELECTION: env.int(1000, 1),
  ALARMS: env.bool(true),
  ALARM_DELAY_SCALE: z.coerce.number().min(0).max(100).default(1),
  ALARM_SHELVE_MAX_S: env.int(8 * 3600, 1),
  ALARM_OPERATOR_POSITIONS: env.int(1, 1),
  ALARM_TICK_MS: env.int(1000, 20),
  ALARM_STREAM_TICKET_TTL_S: env.int(60, 1),
  CONSOLE_DIR: z.string().default(''),
  GRAFANA_URL: z.string().default('http://127.0.0.1:3000'),
  ADMIN_USERNAME: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{1,31}$/)
    .default('admin'),
  ADMIN_PASSWORD: z.string().default(''),
});

export interface OperationsConfig {
  readonly http: { readonly port: number; readonly host: string };
  readonly database:
    | { readonly driver: 'sqlite'; readonly file: string }
    | { readonly driver: 'postgres'; readonly url: string };
  readonly mqtt: {
    readonly url: string;
    readonly clientId: string;
    readonly username: string;
    readonly password: string;
  };
  /** Where every state change is also written as `device_command`; undefined = nowhere. */
  readonly influx: InfluxConfig | undefined;
  readonly tokenTtlS: number;
  readonly commands: {
    readonly defaultTtlS: number;
    readonly maxTtlS: number;
    /** A command published but not confirmed delivered is published again after this. */
    readonly redeliverAfterMs: number;
    readonly dispatchIntervalMs: number;
    readonly maxSelection: number;
  };
  readonly alarms: {
    readonly enabled: boolean;
    /** Multiplies every definition's on/off delays (0: none). */
    readonly delayScale: number;
    readonly shelveMaxS: number;
    /** Operator positions sharing the alarms (the KPIs' "per operator"). */
    readonly operatorPositions: number;
    /** How often shelf expiry and pending on/off delays are looked at. */
    readonly tickMs: number;
    /** Lifetime of a live-feed ticket (EventSource cannot send a bearer header). */
    readonly streamTicketTtlS: number;
  };
  /** The built console (apps/console/dist), served under /console/. */
  readonly consoleDir: string;
  /** Where the console links to the provisioned dashboards. */
  readonly grafanaUrl: string;
  /** The account created at start-up when no account of that name exists (ADMIN_PASSWORD set). */
  readonly admin: { readonly username: string; readonly password: string } | undefined;
}

export const OPERATIONS_CONFIG = Symbol('OPERATIONS_CONFIG');

/** apps/console/dist beside this project (from src/config or dist/config: three levels up). */
const DEFAULT_CONSOLE_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'console',
  'dist',
);

export function loadOperationsConfig(source: NodeJS.ProcessEnv = process.env): OperationsConfig {
  const e = parseEnv(schema, source);
  const db = e.DATABASE_URL;
  return {
    http: { port: e.HTTP_PORT, host: e.HTTP_HOST },
    database: db.startsWith('sqlite:')
      ? { driver: 'sqlite', file: resolve(db.slice('sqlite:'.length)) }
      : { driver: 'postgres', url: db },
    mqtt: {
      url: e.MQTT_URL,
      clientId: e.MQTT_CLIENT_ID,
      username: e.MQTT_USERNAME,
      password: e.MQTT_PASSWORD,
    },
    influx:
      e.COMMAND_RECORDS_INFLUX && e.INFLUX_URL
        ? {
            ...DEFAULT_INFLUX_CONFIG,
            url: e.INFLUX_URL,
            api: e.INFLUX_API,
            database: e.INFLUX_DATABASE,
            username: e.INFLUX_USERNAME,
            password: e.INFLUX_PASSWORD,
            token: e.INFLUX_TOKEN,
            org: e.INFLUX_ORG,
            bucket: e.INFLUX_BUCKET,
          }
        : undefined,
    tokenTtlS: e.TOKEN_TTL_S,
    commands: {
      defaultTtlS: e.COMMAND_DEFAULT_TTL_S,
      maxTtlS: e.COMMAND_MAX_TTL_S,
      redeliverAfterMs: e.REDELIVER_AFTER_MS,
      dispatchIntervalMs: e.DISPATCH_INTERVAL_MS,
      maxSelection: e.MAX_SELECTION,
    },
    alarms: {
      enabled: e.ALARMS,
      delayScale: e.ALARM_DELAY_SCALE,
      shelveMaxS: e.ALARM_SHELVE_MAX_S,
      operatorPositions: e.ALARM_OPERATOR_POSITIONS,
      tickMs: e.ALARM_TICK_MS,
      streamTicketTtlS: e.ALARM_STREAM_TICKET_TTL_S,
    },
    consoleDir: e.CONSOLE_DIR ? resolve(e.CONSOLE_DIR) : DEFAULT_CONSOLE_DIR,
    grafanaUrl: e.GRAFANA_URL.replace(/\/$/, ''),
    admin: e.ADMIN_PASSWORD
      ? { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD }
      : undefined,
  };
}
