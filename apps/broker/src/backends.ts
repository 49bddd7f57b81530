import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { env, maskSecrets } from '@parkpulse/config';
import { Redis } from 'ioredis';
import type mqemitter from 'mqemitter';
import mqemitterRedis from 'mqemitter-redis';
import { z } from 'zod';
import { AEDES_EMITTER_OPTIONS, createEmitter, withDequeBacklog } from './emitter.js';
import { indexedMemoryPersistence } from './persistence.js';

/**
 * Where the broker keeps its state (sessions, subscriptions, retained messages, wills, QoS-1
 * messages queued for persistent sessions) and how its nodes pass messages to each other:
 *
 * - `memory` (default): in this process (persistence.ts, emitter.ts). A restart loses it all.
 * - `redis`: `aedes-persistence-redis` and `mqemitter-redis` on one Redis. A restart loses
 *   nothing that reached Redis, and several broker nodes on one Redis form one broker.
 */
export type PersistenceKind = 'memory' | 'redis';

export interface BackendConfig {
  readonly persistence: PersistenceKind;
  /** `redis://host:port[/db]` (or `rediss://` for TLS); no password here, see `redisPassword`. */
  readonly redisUrl: string;
  readonly redisPassword: string;
  /**
   * How many queued messages a persistent session gets when it (re)connects. The library's
   * default is 1,000; the rest would wait in Redis for the session's next connect.
   */
  readonly redisMaxSessionDelivery: number;
  /** How long a start waits for Redis before it fails. */
  readonly redisConnectTimeoutMs: number;
}

/** The environment variables of BackendConfig, for the broker's config schema. */
export const BACKEND_ENV = {
  BROKER_PERSISTENCE: z.enum(['memory', 'redis']).default('memory'),
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((url) => /^rediss?:\/\/[^/]/.test(url), 'must be redis://host:port[/db] or rediss://…')
    .refine(
      (url) => !/^rediss?:\/\/[^/@]*:[^/@]*@/.test(url),
      'put the password in REDIS_PASSWORD',
    ),
  REDIS_PASSWORD: z.string().default(''),
  REDIS_MAX_SESSION_DELIVERY: env.int(1_000_000, 1),
  REDIS_CONNECT_TIMEOUT_MS: env.int(10_000, 100),
};

type BackendEnv = { [K in keyof typeof BACKEND_ENV]: z.infer<(typeof BACKEND_ENV)[K]> };

export function backendConfig(e: BackendEnv): BackendConfig {
  const config: BackendConfig = {
    persistence: e.BROKER_PERSISTENCE,
    redisUrl: e.REDIS_URL,
    redisPassword: e.REDIS_PASSWORD,
    redisMaxSessionDelivery: e.REDIS_MAX_SESSION_DELIVERY,
    redisConnectTimeoutMs: e.REDIS_CONNECT_TIMEOUT_MS,
  };
  // The broker logs its configuration as JSON; the password must not be in it.
  return Object.defineProperty(config, 'toJSON', { value: () => maskSecrets({ ...config }) });
}

export const MEMORY_BACKENDS: BackendConfig = {
  persistence: 'memory',
  redisUrl: 'redis://127.0.0.1:6379',
  redisPassword: '',
  redisMaxSessionDelivery: 1_000_000,
  redisConnectTimeoutMs: 10_000,
};

export interface Backends {
  readonly kind: PersistenceKind;
  /** For `Aedes.createBroker({ persistence, mq })`. */
  readonly persistence: unknown;
  readonly mq: mqemitter.MQEmitter;
  /** What to log: the kind, and where. */
  readonly description: string;
  /** False while a backend the broker needs (Redis) is unreachable. */
  healthy(): boolean;
  /**
   * Client ids among `clientIds` whose persistent session (subscriptions) the persistence holds
   * already — after a restart, those that Redis kept; with `memory`, none.
   */
  storedSessions(clientIds: readonly string[]): Promise<string[]>;
  /** After `aedes.close()` (which closes the emitter): releases the persistence's connection. */
  close(): Promise<void>;
}

/**
 * The Aedes id of one run of broker node `brokerId`: `{brokerId}-{8 hex}`, new at every start.
 *
 * Aedes numbers its messages from 0 at every start and the Redis persistence stores each queued
 * message under `packet:{aedes id}:{number}`: with the same id after a restart, the first
 * messages of the new run overwrite those queued by the last one under the same numbers — lost
 * (seen: 246 of 1,750 messages queued for the stopped ingestion). A run-unique id also lets the
 * wills of clients of a run that crashed be published (Aedes publishes stored wills of broker ids
 * that stopped sending heartbeats). `BROKER_ID` still names the node's `$SYS` figures.
 */
export function instanceId(brokerId: string): string {
  return `${brokerId}-${randomUUID().slice(0, 8)}`;
}

interface SessionStore {
  subscriptionsByClient(client: { id: string }): Promise<unknown[] | null>;
  addSubscriptions(client: { id: string }, subs: object, cb?: unknown): Promise<unknown> | void;
  destroy(): Promise<void>;
}

/**
 * Aedes 1.2 stores a persistent session's SUBSCRIBE once per topic filter in it, each time with
 * the packet's whole list, all at once (lib/handlers/subscribe.js, storeSubscriptions). The Redis
 * persistence tells the other broker nodes through the emitter and waits for its own message to
 * come back, under a key made of the client id and the list's first filter
 * (aedes-persistence/broadcastPersistence.js): the concurrent calls overwrite each other's
 * waiter, one never resolves and the SUBACK never comes — every SUBSCRIBE with two or more
 * filters hangs, the ingestion's first of all. Calls with the same list while one is under way
 * share it: the list is stored once, as Aedes meant.
 */
export function oneStorePerSubscribe<T extends SessionStore>(store: T): T {
  const add = store.addSubscriptions.bind(store);
  const storing = new WeakMap<object, Promise<unknown>>();
  store.addSubscriptions = (client, subs, cb) => {
    if (cb !== undefined) return add(client, subs, cb);
    let pending = storing.get(subs);
    if (!pending) {
      pending = (add(client, subs) as Promise<unknown>).finally(() => storing.delete(subs));
      storing.set(subs, pending);
    }
    return pending;
  };
  return store;
}

// aedes-persistence-redis is CommonJS without type declarations.
const require = createRequire(import.meta.url);
const aedesPersistenceRedis = require('aedes-persistence-redis') as (opts: object) => SessionStore;

/**
 * Builds the persistence and the emitter that `config.persistence` names. With Redis it connects
 * first and fails (with the URL in the message) when Redis does not answer within
 * `redisConnectTimeoutMs`, so that a broker never starts without its state.
 */
export async function createBackends(
  config: BackendConfig,
  log: (line: string) => void = () => undefined,
): Promise<Backends> {
  if (config.persistence === 'memory') {
    const persistence = indexedMemoryPersistence() as SessionStore;
    return {
      kind: 'memory',
      persistence,
      mq: createEmitter(),
      description: 'memory',
      healthy: () => true,
      storedSessions: (ids) => storedSessions(persistence, ids),
      close: () => Promise.resolve(),
    };
  }
  return createRedisBackends(config, log);
}

async function createRedisBackends(
  config: BackendConfig,
  log: (line: string) => void,
): Promise<Backends> {
  const where = config.redisUrl;
  // One connection for the persistence, two for the emitter (one of them in subscriber mode).
  // ioredis reconnects by itself (back-off up to 2 s) and holds commands while it does.
  const db = new Redis(config.redisUrl, {
    ...(config.redisPassword ? { password: config.redisPassword } : {}),
    lazyConnect: true,
  });
  const connections = [db];
  const states = new Map<Redis, string>();
  const watch = (conn: Redis, name: string) => {
    // Log changes of state, not every failed reconnection.
    const note = (state: string, detail = '') => {
      if (states.get(conn) === state) return;
      states.set(conn, state);
      log(`redis ${name} ${state}${detail} (${where})`);
    };
    conn.on('ready', () => note('ready'));
    conn.on('error', (error: Error) => note('unreachable', `: ${error.message}`));
    conn.on('reconnecting', () => note('reconnecting'));
  };
  watch(db, 'persistence');

  try {
    await withTimeout(db.connect(), config.redisConnectTimeoutMs);
  } catch (error) {
    db.disconnect();
    throw new Error(
      `Redis at ${where} did not answer within ${config.redisConnectTimeoutMs} ms: ${(error as Error).message}`,
    );
  }
  const pubConn = db.duplicate({ enableAutoPipelining: true });
  const subConn = db.duplicate();
  connections.push(pubConn, subConn);
  watch(pubConn, 'emitter');
  watch(subConn, 'emitter subscriber');
  // Connected and ready before the emitter's first PSUBSCRIBE: one sent while ioredis is still
  // checking the connection puts it in subscriber mode under the check, which then fails, and
  // the reconnection loses that subscription (seen: SUBACKs that never came after a restart).
  try {
    await withTimeout(
      Promise.all([pubConn.connect(), subConn.connect()]),
      config.redisConnectTimeoutMs,
    );
  } catch (error) {
    for (const c of connections) c.disconnect();
    throw new Error(
      `Redis at ${where} did not answer within ${config.redisConnectTimeoutMs} ms: ${(error as Error).message}`,
    );
  }

  const persistence = oneStorePerSubscribe(
    aedesPersistenceRedis({ conn: db, maxSessionDelivery: config.redisMaxSessionDelivery }),
  );
  const mq = withDequeBacklog(mqemitterRedis({ ...AEDES_EMITTER_OPTIONS, pubConn, subConn }));
  // mqemitter-redis re-emits connection errors here; unhandled, an 'error' event would throw.
  (mq as unknown as { state: NodeJS.EventEmitter }).state.on('error', () => undefined);

  return {
    kind: 'redis',
    persistence,
    mq,
    description: `redis ${where}`,
    healthy: () => connections.every((c) => c.status === 'ready'),
    storedSessions: (ids) => storedSessions(persistence, ids),
    async close() {
      // aedes.close() has closed the emitter (its two connections); the persistence's is left.
      await withTimeout(persistence.destroy(), 2000).catch(() => undefined);
      for (const c of connections) if (c.status !== 'end') c.disconnect();
    },
  };
}

async function storedSessions(store: SessionStore, ids: readonly string[]): Promise<string[]> {
  const kept: string[] = [];
  for (const id of ids) {
    const subs = await store.subscriptionsByClient({ id });
    if (subs && subs.length > 0) kept.push(id);
  }
  return kept;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
