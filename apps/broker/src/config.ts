import { hostname } from 'node:os';
import { ConfigError, env, parseEnv } from '@parkpulse/config';
import { z } from 'zod';
import { BACKEND_ENV, backendConfig, type BackendConfig } from './backends.js';
import { LIMITS_ENV, limitsFromEnv, type LimitsConfig } from './limits.js';
import { DEFAULT_LINK_PORT } from '@parkpulse/ingest-link';
import { DEFAULT_DISPATCHER_CONFIG, type DispatcherConfig } from './capture/dispatcher.js';

const schema = z.object({
  BROKER_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default(`broker-${hostname().replace(/[^A-Za-z0-9_-]/g, '')}`),
  MQTT_HOST: z.string().default('0.0.0.0'),
  MQTT_PORT: env.port(1883),
  MQTT_WS_PORT: env.port(8083),
  HTTP_PORT: env.port(9101),
  CONNECT_TIMEOUT_MS: env.int(30_000, 1000),
  STATS_INTERVAL_MS: env.int(10_000, 0),
  INGEST_LINK_HOST: z.string().default(''),
  INGEST_LINK_PORT: env.port(DEFAULT_LINK_PORT),
  INGEST_LINK_WINDOW: env.int(DEFAULT_DISPATCHER_CONFIG.window, 1),
  INGEST_BATCH_MAX_MESSAGES: env.int(DEFAULT_DISPATCHER_CONFIG.maxBatchMessages, 1),
  INGEST_BATCH_MAX_BYTES: env.int(DEFAULT_DISPATCHER_CONFIG.maxBatchBytes, 1024),
  CAPTURE_MAX_PENDING_MESSAGES: env.int(DEFAULT_DISPATCHER_CONFIG.maxPendingMessages, 1),
  CAPTURE_MAX_PENDING_BYTES: env.int(DEFAULT_DISPATCHER_CONFIG.maxPendingBytes, 1024),
  REGISTRY_FILE: z.string().min(1).default('deploy/registry/registry.yaml'),
  MQTT_PLAINTEXT: env.bool(true),
  MQTTS_PORT: env.port(8883),
  MQTT_WSS_PORT: env.port(8084),
  TLS_CERT_FILE: z.string().default(''),
  TLS_KEY_FILE: z.string().default(''),
  TLS_CA_FILE: z.string().default(''),
  TLS_CLIENT_CERTS: z.enum(['none', 'optional', 'required']).default('none'),
  ...BACKEND_ENV,
  ...LIMITS_ENV,
});

export interface BrokerConfig {
  /** Stable id of this broker node; names its `$SYS` figures. */
  readonly id: string;
  readonly host: string;
  /** MQTT over TCP; 0 picks a free port. */
  readonly mqttPort: number;
  /** MQTT over WebSocket on path `/mqtt`; 0 picks a free port. */
  readonly wsPort: number;
  /** `/health` and `/metrics`; 0 picks a free port. */
  readonly httpPort: number;
  readonly connectTimeoutMs: number;
  /** How often the broker publishes its figures on `$SYS/parkpulse/brokers/{id}/stats`; 0 = never. */
  readonly statsIntervalMs: number;
  /**
   * The ingest link: where ingestion instances attach (`host` defaults to the MQTT host; 0 picks
   * a free port) and how captured messages are batched and bounded (capture/dispatcher.ts).
   */
  readonly ingestLink: {
    readonly host: string;
    readonly port: number;
    readonly dispatcher: DispatcherConfig;
  };
  /**
   * Packet size, connections, publish rate, keep-alive, slow subscribers (limits.ts); the defaults
   * when absent.
   */
  readonly limits?: LimitsConfig;
  /** The device and service registry (YAML; its secrets come from the environment). */
  readonly registryFile: string;
  /** Whether the plain-text listeners (mqtt, ws) run; false = TLS only. */
  readonly plaintext: boolean;
  /** mqtts and wss, when a certificate and key are configured. */
  readonly tls?: TlsConfig;
  /** Persistence and emitter: memory (when absent) or Redis; see backends.ts. */
  readonly backends?: BackendConfig;
}

export interface TlsConfig {
  readonly mqttsPort: number;
  readonly wssPort: number;
  readonly certFile: string;
  readonly keyFile: string;
  /** CA that signs client certificates (required when they are asked for). */
  readonly caFile: string;
  /**
   * `none`: no client certificates. `optional`: asked for; a valid one may replace the password
   * (its common name is the identity). `required`: a connection without a valid one fails.
   */
  readonly clientCerts: 'none' | 'optional' | 'required';
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): BrokerConfig {
  const e = parseEnv(schema, source);
  const tls = tlsConfig(e);
  return {
    id: e.BROKER_ID,
    host: e.MQTT_HOST,
    mqttPort: e.MQTT_PORT,
    wsPort: e.MQTT_WS_PORT,
    httpPort: e.HTTP_PORT,
    connectTimeoutMs: e.CONNECT_TIMEOUT_MS,
    statsIntervalMs: e.STATS_INTERVAL_MS,
    ingestLink: {
      host: e.INGEST_LINK_HOST || e.MQTT_HOST,
      port: e.INGEST_LINK_PORT,
      dispatcher: {
        window: e.INGEST_LINK_WINDOW,
        maxBatchMessages: e.INGEST_BATCH_MAX_MESSAGES,
        maxBatchBytes: e.INGEST_BATCH_MAX_BYTES,
        maxPendingMessages: e.CAPTURE_MAX_PENDING_MESSAGES,
        maxPendingBytes: e.CAPTURE_MAX_PENDING_BYTES,
      },
    },
    limits: limitsFromEnv(e),
    registryFile: e.REGISTRY_FILE,
    plaintext: e.MQTT_PLAINTEXT,
    ...(tls ? { tls } : {}),
    backends: backendConfig(e),
  };
}

function tlsConfig(e: z.infer<typeof schema>): TlsConfig | undefined {
  const problems: string[] = [];
  if (!e.TLS_CERT_FILE !== !e.TLS_KEY_FILE)
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE: give both or neither');
  if (e.TLS_CLIENT_CERTS !== 'none' && !e.TLS_CA_FILE)
    problems.push('TLS_CA_FILE: required when TLS_CLIENT_CERTS is optional or required');
  if (!e.TLS_CERT_FILE && !e.MQTT_PLAINTEXT)
    problems.push('MQTT_PLAINTEXT: false needs TLS_CERT_FILE and TLS_KEY_FILE (no listener left)');
  if (problems.length > 0) throw new ConfigError(problems);
  if (!e.TLS_CERT_FILE) return undefined;
  return {
    mqttsPort: e.MQTTS_PORT,
    wssPort: e.MQTT_WSS_PORT,
    certFile: e.TLS_CERT_FILE,
    keyFile: e.TLS_KEY_FILE,
    caFile: e.TLS_CA_FILE,
    clientCerts: e.TLS_CLIENT_CERTS,
  };
}
