import { randomBytes } from 'node:crypto';
import { deriveDeviceKey } from '@parkpulse/access';
import {
  CONNECTIONS_TOPIC_ROOT,
  DEVICE_ID_PATTERN,
  TOPIC_ROOT,
  type ConnectionNotice,
} from '@parkpulse/telemetry';
import mqtt, { type MqttClient } from 'mqtt';
import {
  DEFAULT_THRESHOLDS,
  evaluate,
  type ClauseResult,
  type ConformanceThresholds,
  type KickObservation,
  type ObservedMessage,
} from './clauses.js';

export interface ConformOptions {
  readonly url: string;
  readonly deviceId: string;
  /** An observer account (read-only: `parks/#`, dead letters, connection notices, `$SYS/#`). */
  readonly username: string;
  readonly password: string;
  /** Client id of the observer connection (default `{username}-conform-{random}`). */
  readonly clientId?: string;
  /** How long to watch before the active check (and in total, for a passive run), ms. */
  readonly watchMs: number;
  /**
   * The device's own key (or derived from its group key): enables the active check, which
   * takes over the device's session `kicks` times (the broker then publishes its last will and
   * the device must come back with back-off).
   */
  readonly deviceKey?: string;
  readonly kicks?: number;
  /** How long to wait for the device to come back after a kick, ms. */
  readonly reconnectWaitMs?: number;
  /** How long after a kick its last will may take to appear, ms (the broker holds it ≤ 5 s). */
  readonly willWaitMs?: number;
  readonly thresholds?: ConformanceThresholds;
  readonly signal?: AbortSignal;
}

export interface DeadLetterSeen {
  readonly topic: string;
  readonly reason: string;
  readonly detail: string;
}

export interface ConformReport {
  readonly deviceId: string;
  readonly broker: string;
  readonly startedAt: string;
  readonly watchedMs: number;
  readonly mode: 'passive' | 'active';
  readonly messages: number;
  readonly clauses: readonly ClauseResult[];
  /** Dead letters the ingestion published for this device meanwhile (what it refused, and why). */
  readonly deadLetters: readonly DeadLetterSeen[];
  readonly passed: boolean;
}

/** The group key → the device key, as the broker derives it. */
export function deviceKeyFrom(groupKey: string, deviceId: string): string {
  return deriveDeviceKey(groupKey, deviceId);
}

/**
 * Watches one device's traffic as an observer and, with its key, checks its will and its
 * reconnects by taking over its session; then judges every clause (see clauses.ts).
 */
export async function conform(options: ConformOptions): Promise<ConformReport> {
  const { deviceId } = options;
  if (!DEVICE_ID_PATTERN.test(deviceId))
    throw new Error(`device id "${deviceId}" must match ${DEVICE_ID_PATTERN.source}`);
  const messages: ObservedMessage[] = [];
  const connects: number[] = [];
  const notices: SeenNotice[] = [];
  const deadLetters: DeadLetterSeen[] = [];
  const startedAt = Date.now();

  const clientId =
    options.clientId ?? `${options.username}-conform-${randomBytes(4).toString('hex')}`;
  const login = { username: options.username, password: options.password };
  const observer = await connectClient(options.url, { clientId, ...login });
  // Connection announcements and dead letters come on a connection of their own: under Aedes
  // 1.2, a subscriber that also holds `$SYS/+/new/clients` does not receive the will that a
  // session takeover publishes (reproduced with a bare Aedes broker).
  const announcements = await connectClient(options.url, {
    clientId: `${clientId}-sys`,
    ...login,
  });
  const noticeTopic = `${CONNECTIONS_TOPIC_ROOT}/${deviceId}`;
  announcements.on('message', (topic, payload, packet) => {
    if (topic === noticeTopic) {
      const notice = parseNotice(payload, deviceId);
      // A retained one left by an earlier run's kick is the tester's, not the device's.
      if (notice && !(packet.retain && isTesters(notice)))
        notices.push({ notice, byTester: false });
    } else if (topic.startsWith('$parkpulse/dead-letters/')) {
      const doc = safeJson(payload) as { reason?: string; detail?: string; topic?: string };
      deadLetters.push({
        topic: doc?.topic ?? topic,
        reason: doc?.reason ?? '?',
        detail: doc?.detail ?? '',
      });
    } else if (topic.endsWith('/new/clients') && payload.toString('utf8') === deviceId)
      connects.push(Date.now());
  });
  const statusTopic = { suffix: `/${deviceId}/status` };
  observer.on('message', (topic, payload, packet) => {
    const receivedAt = Date.now();
    messages.push({ topic, payload, receivedAt, qos: packet.qos, retain: packet.retain });
  });
  try {
    await observer.subscribeAsync(
      {
        [`${TOPIC_ROOT}/+/+/+/${deviceId}/#`]: { qos: 1 },
      },
      {},
    );
    await announcements.subscribeAsync(
      {
        '$SYS/+/new/clients': { qos: 0 },
        [`$parkpulse/dead-letters/${TOPIC_ROOT}/+/+/+/${deviceId}/#`]: { qos: 0 },
        // Retained: the device's current connection, even if it connected before the tester.
        [noticeTopic]: { qos: 1 },
      },
      {},
    );
    await sleepUnless(options.watchMs, options.signal);

    let kicks: KickObservation[] | undefined;
    const noticesBeforeKicks = notices.length;
    if (options.deviceKey !== undefined && !options.signal?.aborted) {
      kicks = [];
      for (let i = 0; i < (options.kicks ?? 3) && !options.signal?.aborted; i++) {
        kicks.push(
          await kick(options, options.deviceKey, {
            connects,
            messages,
            statusSuffix: statusTopic.suffix,
          }),
        );
        // Let it settle (upload its backlog) before the next kick.
        await sleepUnless(1000, options.signal);
      }
    }
    // The broker announced each kick's connection too: those notices are the tester's.
    markTesters(notices.slice(noticesBeforeKicks), kicks?.length ?? 0);
    const endedAt = Date.now();
    const connections = notices.filter((n) => !n.byTester).map((n) => n.notice);
    const clauses = evaluate(
      { deviceId, startedAt, endedAt, messages, connections, ...(kicks ? { kicks } : {}) },
      options.thresholds ?? DEFAULT_THRESHOLDS,
    );
    return {
      deviceId,
      broker: options.url,
      startedAt: new Date(startedAt).toISOString(),
      watchedMs: endedAt - startedAt,
      mode: kicks ? 'active' : 'passive',
      messages: messages.length,
      clauses,
      deadLetters,
      passed: clauses.every((c) => c.status !== 'fail'),
    };
  } finally {
    await observer.endAsync().catch(() => undefined);
    await announcements.endAsync().catch(() => undefined);
  }
}

/**
 * One kick: connect as the device (a session takeover: the broker closes the device's
 * connection without a DISCONNECT, so its will goes out), leave at once with a clean
 * DISCONNECT, and wait for the device's own next connection.
 */
async function kick(
  options: ConformOptions,
  key: string,
  seen: {
    readonly connects: number[];
    readonly messages: ObservedMessage[];
    readonly statusSuffix: string;
  },
): Promise<KickObservation> {
  const { connects, messages, statusSuffix } = seen;
  const before = connects.length;
  const sentAt = Date.now();
  const taker = await connectClient(
    options.url,
    { clientId: options.deviceId, username: options.deviceId, password: key },
    TAKER_KEEPALIVE_S,
  ).catch((error: Error) => {
    throw new Error(`active check: could not log in as ${options.deviceId}: ${error.message}`);
  });
  // A device without back-off may already have taken the session back: do not wait on it.
  await Promise.race([taker.endAsync().catch(() => undefined), sleepUnless(2000)]);
  taker.end(true);
  const wait = options.reconnectWaitMs ?? 35_000;
  const deadline = Date.now() + wait;
  // The first announcement after `before` is the tester's own connection, the second the device's.
  while (connects.length < before + 2 && Date.now() < deadline && !options.signal?.aborted)
    await sleepUnless(20, options.signal);
  const kickedAt = connects[before] ?? sentAt;
  const reconnectedAt = connects[before + 1];
  // The broker may hold a will until the client's last publishes are through (up to 5 s), so
  // it can arrive after the device is back: wait for it that long from the kick.
  const willSeen = () =>
    messages.some(
      (m) => m.topic.endsWith(statusSuffix) && m.receivedAt >= sentAt && isOffline(m.payload),
    );
  const willDeadline = sentAt + (options.willWaitMs ?? 6000);
  while (!willSeen() && Date.now() < willDeadline && !options.signal?.aborted)
    await sleepUnless(20, options.signal);
  return {
    kickedAt,
    willSeen: willSeen(),
    ...(reconnectedAt !== undefined ? { reconnectedAt } : {}),
  };
}

/**
 * The keep-alive of the tester's own connections as the device: outside the contract's 30–60 s,
 * so that the broker's notice of such a connection is told from a conforming device's, and far
 * below any broker's limit.
 */
const TAKER_KEEPALIVE_S = 17;

interface SeenNotice {
  readonly notice: ConnectionNotice;
  /** The notice of the tester's own connection as the device (a kick). */
  byTester: boolean;
}

function isTesters(notice: ConnectionNotice): boolean {
  return notice.will === null && notice.keepaliveS === TAKER_KEEPALIVE_S;
}

/**
 * Marks the notices of the tester's own connections (one per kick, no will and the taker's
 * keep-alive). A device's notice that looked the same would say the same: which is left out does
 * not change the verdict.
 */
function markTesters(seen: readonly SeenNotice[], kicks: number): void {
  let left = kicks;
  for (const n of seen) {
    if (left === 0) return;
    if (isTesters(n.notice)) {
      n.byTester = true;
      left--;
    }
  }
}

/** A connection notice of the device, or undefined for anything else on its topic. */
function parseNotice(payload: Buffer, deviceId: string): ConnectionNotice | undefined {
  const doc = safeJson(payload) as Partial<ConnectionNotice> | undefined;
  if (!doc || typeof doc !== 'object' || doc.clientId !== deviceId) return undefined;
  if (typeof doc.keepaliveS !== 'number' || typeof doc.connectedAt !== 'number') return undefined;
  const will = doc.will;
  const willOk =
    will === null ||
    (typeof will === 'object' &&
      typeof will.topic === 'string' &&
      typeof will.qos === 'number' &&
      typeof will.retain === 'boolean');
  if (!willOk) return undefined;
  return {
    clientId: doc.clientId,
    keepaliveS: doc.keepaliveS,
    clean: doc.clean === true,
    protocolVersion: typeof doc.protocolVersion === 'number' ? doc.protocolVersion : 0,
    will: will
      ? {
          topic: will.topic,
          qos: will.qos,
          retain: will.retain,
          payloadBytes: typeof will.payloadBytes === 'number' ? will.payloadBytes : -1,
        }
      : null,
    connectedAt: doc.connectedAt,
  };
}

function isOffline(payload: Buffer): boolean {
  const text = payload.toString('utf8').trim();
  if (text === 'offline') return true;
  return (safeJson(payload) as { state?: unknown } | undefined)?.state === 'offline';
}

function connectClient(
  url: string,
  login: { clientId: string; username: string; password: string },
  keepalive = 30,
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      ...login,
      clean: true,
      keepalive,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
    client.once('close', () => reject(new Error(`connection to ${url} closed`)));
  });
}

function safeJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

function sleepUnless(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
