import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { env, parseEnv } from '@parkpulse/config';
import { DEFAULT_INFLUX_CONFIG, type InfluxConfig } from '@parkpulse/influx';
import {
  DEFAULT_LIMITS,
  DEFAULT_PRESENCE_RULES,
  SPARKPLUG_ID_PATTERN,
  type ContractLimits,
  type PresenceRules,
} from '@parkpulse/telemetry';
import { DEFAULT_LINK_PORT } from '@parkpulse/ingest-link';
import { z } from 'zod';

const schema = z.object({
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .default(hostname().replace(/[^A-Za-z0-9_.-]/g, '') || 'ingestion'),
  HTTP_PORT: env.port(9102),
  // The address the HTTP listener binds, like the broker's MQTT_HOST (default: every interface).
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  INGEST_LINK_URL: z
    .string()
    .regex(/^mqtts?:\/\/[^/]+$/, 'must look like mqtt://host:port or mqtts://host:port')
    .default(`mqtt://127.0.0.1:${DEFAULT_LINK_PORT}`),
  MQTT_CLIENT_ID: z.string().min(1).max(64).optional(),
  MQTT_USERNAME: z.string().default(''),
  MQTT_PASSWORD: z.string().default(''),
  MQTT_KEEPALIVE_S: env.int(30, 5),
  INFLUX_URL: z.url().default(DEFAULT_INFLUX_CONFIG.url),
  INFLUX_API: z.enum(['v1', 'v2']).default(DEFAULT_INFLUX_CONFIG.api),
  INFLUX_DATABASE: z.string().min(1).default(DEFAULT_INFLUX_CONFIG.database),
  INFLUX_RETENTION_POLICY: z.string().default(''),
  INFLUX_USERNAME: z.string().default(''),
  INFLUX_PASSWORD: z.string().default(''),
  INFLUX_TOKEN: z.string().default(''),
  INFLUX_ORG: z.string().default(DEFAULT_INFLUX_CONFIG.org),
  INFLUX_BUCKET: z.string().default(DEFAULT_INFLUX_CONFIG.bucket),
  INFLUX_CREATE_DATABASE: env.bool(true),
  INFLUX_TIMEOUT_MS: env.int(DEFAULT_INFLUX_CONFIG.timeoutMs, 100),
  INFLUX_WRITE_DEADLINE_MS: env.int(2_000, 100),
  // Unset: never for an InfluxDB on this host (compressing costs CPU and saves nothing on
  // loopback), DEFAULT_INFLUX_CONFIG.gzipThreshold otherwise. 0: never.
  INFLUX_GZIP_THRESHOLD: z.coerce.number().int().min(0).optional(),
  BATCH_MAX_POINTS: env.int(5000, 1),
  WRITE_CONCURRENCY: env.int(2, 1),
  MAX_PAYLOAD_BYTES: env.int(DEFAULT_LIMITS.maxPayloadBytes, 64),
  MAX_BATCH_SAMPLES: env.int(DEFAULT_LIMITS.maxBatchSamples, 1),
  TS_MAX_PAST_MS: env.int(DEFAULT_LIMITS.maxPastMs),
  TS_MAX_FUTURE_MS: env.int(DEFAULT_LIMITS.maxFutureMs),
  PLATFORM_STATS_INTERVAL_MS: env.int(10_000),
  PRESENCE_STALE_INTERVALS: env.int(DEFAULT_PRESENCE_RULES.staleIntervals, 1),
  PRESENCE_MIN_STALE_MS: env.int(DEFAULT_PRESENCE_RULES.minStaleMs),
  SHUTDOWN_TIMEOUT_MS: env.int(15_000, 100),
  // Relative to the working directory: `.data/` is where `npm start` and the container image keep
  // writable state.
  SPOOL_DIR: z.string().min(1).default('.data/spool'),
  SPOOL_MAX_BYTES: env.int(1024 ** 3),
  SPOOL_AFTER_MS: env.int(15_000),
  DEAD_LETTERS_MQTT: env.bool(true),
  DEAD_LETTERS_MQTT_RATE: env.int(100, 1),
  // The registry the broker reads: the ingestion takes its `sparkplug:` section (no secrets).
  REGISTRY_FILE: z.string().min(1).optional(),
  SPARKPLUG_HOST_ID: z
    .string()
    .regex(SPARKPLUG_ID_PATTERN, 'must be 1–128 characters without / + # or control characters')
    .optional(),
});

/** Where the broker's registry is when REGISTRY_FILE is not set (the broker's default too). */
export const DEFAULT_REGISTRY_FILE = 'deploy/registry/registry.yaml';

export interface IngestionConfig {
  readonly instanceId: string;
  readonly httpPort: number;
  readonly httpHost: string;
  /** The broker's ingest link (see @parkpulse/ingest-link) and this instance's credentials. */
  readonly link: {
    readonly url: string;
    /** `{username}-{INSTANCE_ID}` unless set: unique per instance (the broker partitions by it). */
    readonly clientId: string;
    readonly username: string;
    readonly password: string;
    readonly keepaliveS: number;
  };
  readonly influx: InfluxConfig & {
    readonly createDatabase: boolean;
    /** A write unanswered this long counts as failed (a hung InfluxDB is a down one). */
    readonly writeDeadlineMs: number;
  };
  readonly batch: {
    readonly maxPoints: number;
    readonly concurrency: number;
  };
  readonly limits: ContractLimits;
  /** How often the ingestion writes its own figures to `platform_ingestion`; 0 = never. */
  readonly statsIntervalMs: number;
  /** When a device counts as stale / flapping. */
  readonly presence: PresenceRules;
  readonly shutdownTimeoutMs: number;
  /** The disk spool that takes batches while InfluxDB is down (`maxBytes` 0 = none). */
  readonly spool: {
    readonly dir: string;
    readonly maxBytes: number;
    /** How long InfluxDB writes must have been failing before batches go to the spool. */
    readonly afterMs: number;
  };
  /** Whether dead letters are also published on `$parkpulse/dead-letters/{topic}`, and how many a second at most. */
  readonly deadLettersMqtt: { readonly enabled: boolean; readonly perSecond: number };
  /** The Sparkplug B host application (inert when the registry has no `sparkplug:` section). */
  readonly sparkplug: {
    /** The registry file; `required` when REGISTRY_FILE was set (a missing default is no error). */
    readonly registryFile: string;
    readonly registryRequired: boolean;
    /** `spBv1.0/STATE/{hostId}`; unset: the registry's `sparkplug.hostId` (default `parkpulse`). */
    readonly hostId: string | undefined;
  };
}

export const INGESTION_CONFIG = Symbol('INGESTION_CONFIG');

export function loadIngestionConfig(source: NodeJS.ProcessEnv = process.env): IngestionConfig {
  const e = parseEnv(schema, source);
  return {
    instanceId: e.INSTANCE_ID,
    httpPort: e.HTTP_PORT,
    httpHost: e.HTTP_HOST,
    link: {
      url: e.INGEST_LINK_URL,
      clientId: e.MQTT_CLIENT_ID ?? `${e.MQTT_USERNAME || 'parkpulse-ingestion'}-${e.INSTANCE_ID}`,
      username: e.MQTT_USERNAME,
      password: e.MQTT_PASSWORD,
      keepaliveS: e.MQTT_KEEPALIVE_S,
    },
    influx: {
      url: e.INFLUX_URL,
      api: e.INFLUX_API,
      database: e.INFLUX_DATABASE,
      retentionPolicy: e.INFLUX_RETENTION_POLICY,
      username: e.INFLUX_USERNAME,
      password: e.INFLUX_PASSWORD,
      token: e.INFLUX_TOKEN,
      org: e.INFLUX_ORG,
      bucket: e.INFLUX_BUCKET,
      timeoutMs: e.INFLUX_TIMEOUT_MS,
      gzipThreshold: gzipThreshold(e.INFLUX_GZIP_THRESHOLD, e.INFLUX_URL),
      createDatabase: e.INFLUX_CREATE_DATABASE,
      writeDeadlineMs: e.INFLUX_WRITE_DEADLINE_MS,
    },
    batch: {
      maxPoints: e.BATCH_MAX_POINTS,
      concurrency: e.WRITE_CONCURRENCY,
    },
    limits: {
      maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
      maxBatchSamples: e.MAX_BATCH_SAMPLES,
      maxStringLength: DEFAULT_LIMITS.maxStringLength,
      maxPastMs: e.TS_MAX_PAST_MS,
      maxFutureMs: e.TS_MAX_FUTURE_MS,
    },
    statsIntervalMs: e.PLATFORM_STATS_INTERVAL_MS,
    presence: {
      ...DEFAULT_PRESENCE_RULES,
      staleIntervals: e.PRESENCE_STALE_INTERVALS,
      minStaleMs: e.PRESENCE_MIN_STALE_MS,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    spool: {
      dir: resolve(e.SPOOL_DIR),
      maxBytes: e.SPOOL_MAX_BYTES,
      afterMs: e.SPOOL_AFTER_MS,
    },
    deadLettersMqtt: { enabled: e.DEAD_LETTERS_MQTT, perSecond: e.DEAD_LETTERS_MQTT_RATE },
    sparkplug: {
      registryFile: resolve(e.REGISTRY_FILE ?? DEFAULT_REGISTRY_FILE),
      registryRequired: e.REGISTRY_FILE !== undefined,
      hostId: e.SPARKPLUG_HOST_ID,
    },
  };
}

/** Bodies above this many bytes are gzipped (Infinity: never). */
function gzipThreshold(configured: number | undefined, influxUrl: string): number {
  if (configured === 0) return Number.POSITIVE_INFINITY;
  if (configured !== undefined) return configured;
  const host = new URL(influxUrl).hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  return loopback ? Number.POSITIVE_INFINITY : DEFAULT_INFLUX_CONFIG.gzipThreshold;
}
