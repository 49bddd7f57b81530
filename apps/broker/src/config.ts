import { hostname } from 'node:os';
import { env, parseEnv } from '@parkpulse/config';
import { z } from 'zod';

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
  INGEST_CLIENT_IDS: env.list('parkpulse-ingestion'),
  STARTUP_GATE_MS: env.int(30_000, 0),
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
   * Client ids of the ingestion's sessions. After a start, other clients are refused (CONNACK 3,
   * server unavailable) until all of them have subscribed, or `startupGateMs` has passed: with
   * in-memory persistence a restarted broker has no session to queue messages for, so devices
   * that came back first would publish into the void. 0 disables the gate.
   */
  readonly ingestClientIds: readonly string[];
  readonly startupGateMs: number;
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): BrokerConfig {
  const e = parseEnv(schema, source);
  return {
    id: e.BROKER_ID,
    host: e.MQTT_HOST,
    mqttPort: e.MQTT_PORT,
    wsPort: e.MQTT_WS_PORT,
    httpPort: e.HTTP_PORT,
    connectTimeoutMs: e.CONNECT_TIMEOUT_MS,
    statsIntervalMs: e.STATS_INTERVAL_MS,
    ingestClientIds: e.INGEST_CLIENT_IDS,
    startupGateMs: e.STARTUP_GATE_MS,
  };
}
