import type { Duplex } from 'node:stream';
import { env } from '@parkpulse/config';
import type { Aedes, AedesPublishPacket, Client } from 'aedes';
import type { BrokerMetrics } from './metrics.js';

/**
 * The broker's limits: what one client may cost it, and what it does to a client above them.
 *
 * - Packet size: every connection's bytes go through a scanner of MQTT fixed headers before Aedes
 *   parses them; a packet announcing more than `maxPacketBytes` disconnects the client as soon as
 *   its header arrives, before the packet is buffered (Aedes' parser has no such limit).
 * - Connecting: until its CONNECT has arrived whole, a connection is held here, not in Aedes, and
 *   not in `maxConnections`: at most `maxConnecting` of them at once, `maxConnectingPerAddress` of
 *   them per remote address (counted until the client is authenticated), each for at most
 *   `connectingTimeoutMs`. Beyond either budget a new socket is closed at once. So sockets that
 *   never send CONNECT (or half of one) cannot hold the connection slots of devices, and one
 *   address cannot take the whole connecting budget.
 * - Connections: a CONNECT that arrives while `maxConnections` are open gets CONNACK 3 (server
 *   unavailable) and is closed, without ever reaching Aedes. The ingestion's sessions are exempt.
 * - Publish rate: a token bucket per connection. A client above its rate is throttled: the broker
 *   leaves its PUBLISH packets unread (TCP pushes back, its QoS-1 PUBACKs come later); one that
 *   stays above the rate for `throttleDisconnectMs` without a break is disconnected.
 * - Slow subscribers: a QoS-0 delivery to a subscriber with more than `subscriberBufferBytes`
 *   unsent is dropped (shed) and counted; QoS-1 deliveries are never dropped: they wait.
 * - Connect timeout and keep-alive: Aedes' own (`connectTimeout`, `keepaliveLimit`), counted here.
 */
export interface LimitsConfig {
  /** Largest MQTT packet a client may send, header included; 0 = no limit. */
  readonly maxPacketBytes: number;
  /** Open MQTT connections (TCP, TLS and WebSocket together); 0 = no limit. */
  readonly maxConnections: number;
  /** Largest keep-alive a client may ask for, s; 0 (no keep-alive) is refused too. 0 = no limit. */
  readonly maxKeepaliveS: number;
  /** PUBLISH packets per second and connection; 0 = no limit. */
  readonly publishRate: number;
  /** Publishes a client may send at once above its rate (the bucket's size). */
  readonly publishBurst: number;
  /** A client throttled without a break for this long is disconnected; 0 = throttle only. */
  readonly throttleDisconnectMs: number;
  /** Unsent bytes above which QoS-0 deliveries to a subscriber are dropped; 0 = never drop. */
  readonly subscriberBufferBytes: number;
  /** Connections whose CONNECT has not arrived yet, at once; 0 = no limit. */
  readonly maxConnecting: number;
  /** Connections not authenticated yet (CONNECT not arrived, or being checked) per remote address; 0 = no limit. */
  readonly maxConnectingPerAddress: number;
  /** How long a new connection may take to send its whole CONNECT, ms. */
  readonly connectingTimeoutMs: number;
}

export const DEFAULT_LIMITS: LimitsConfig = {
  maxPacketBytes: 1_048_576,
  maxConnections: 20_000,
  maxKeepaliveS: 1_200,
  publishRate: 500,
  publishBurst: 1_000,
  throttleDisconnectMs: 60_000,
  subscriberBufferBytes: 1_048_576,
  maxConnecting: 5_000,
  maxConnectingPerAddress: 500,
  connectingTimeoutMs: 5_000,
};

/** The environment variables of the limits, for the broker's config schema. */
export const LIMITS_ENV = {
  MAX_PACKET_BYTES: env.int(DEFAULT_LIMITS.maxPacketBytes, 0),
  MAX_CONNECTIONS: env.int(DEFAULT_LIMITS.maxConnections, 0),
  MAX_KEEPALIVE_S: env.int(DEFAULT_LIMITS.maxKeepaliveS, 0),
  PUBLISH_RATE_LIMIT: env.int(DEFAULT_LIMITS.publishRate, 0),
  PUBLISH_BURST: env.int(DEFAULT_LIMITS.publishBurst, 1),
  THROTTLE_DISCONNECT_MS: env.int(DEFAULT_LIMITS.throttleDisconnectMs, 0),
  SUBSCRIBER_BUFFER_BYTES: env.int(DEFAULT_LIMITS.subscriberBufferBytes, 0),
  MAX_CONNECTING: env.int(DEFAULT_LIMITS.maxConnecting, 0),
  MAX_CONNECTING_PER_ADDRESS: env.int(DEFAULT_LIMITS.maxConnectingPerAddress, 0),
  CONNECTING_TIMEOUT_MS: env.int(DEFAULT_LIMITS.connectingTimeoutMs, 100),
};

export function limitsFromEnv(e: Record<keyof typeof LIMITS_ENV, number>): LimitsConfig {
  return {
    maxPacketBytes: e.MAX_PACKET_BYTES,
    maxConnections: e.MAX_CONNECTIONS,
    maxKeepaliveS: e.MAX_KEEPALIVE_S,
    publishRate: e.PUBLISH_RATE_LIMIT,
    publishBurst: e.PUBLISH_BURST,
    throttleDisconnectMs: e.THROTTLE_DISCONNECT_MS,
    subscriberBufferBytes: e.SUBSCRIBER_BUFFER_BYTES,
    maxConnecting: e.MAX_CONNECTING,
    maxConnectingPerAddress: e.MAX_CONNECTING_PER_ADDRESS,
    connectingTimeoutMs: e.CONNECTING_TIMEOUT_MS,
  };
}

/** Why a client was refused, disconnected or a delivery dropped: the `limit`/`reason` labels. */
export type RefusalReason =
  'max_connections' | 'keepalive' | 'max_connecting' | 'max_connecting_per_address';
export type DisconnectReason = 'packet_size' | 'publish_rate' | 'connect_timeout';
export type ShedReason = 'subscriber_backlog';

/** What the limits did since the start, for the `$SYS` figures. */
export interface LimitStats {
  readonly deliveriesShed: number;
  readonly connectionsRefused: number;
  readonly limitDisconnects: number;
  /** Throttling episodes (a client left unread because it was above its rate). */
  readonly publishThrottled: number;
  readonly clientsThrottled: number;
  readonly limits: {
    readonly shed: Record<ShedReason, number>;
    readonly refused: Record<RefusalReason, number>;
    readonly disconnected: Record<DisconnectReason, number>;
    readonly throttledS: number;
  };
}

/** CONNACK, return code 3 (server unavailable), MQTT 3.1.1. */
export const CONNACK_SERVER_UNAVAILABLE = Buffer.from([0x20, 0x02, 0x00, 0x03]);
/** How long a connection refused with CONNACK 3 is given to read it before it is closed. */
export const REFUSE_WAIT_MS = 2_000;
/**
 * What one read hands Aedes at most: Aedes parses all of it at once and reads again only when
 * every message of it has been delivered, so this bounds the messages in flight per connection.
 * Without it, a read held a whole socket chunk — 600 small PUBLISH packets — and 500 flooding
 * publishers kept 300,000 messages in flight (740 MB RSS). 100 = Aedes' delivery concurrency: a
 * client alone can still keep every delivery slot busy. The rest stays in the socket's buffer, as
 * bytes, and TCP pushes back.
 */
export const MAX_PUBLISHES_PER_READ = 100;
export const MAX_BYTES_PER_READ = 65_536;
/** A throttled client is read again when this share of a second's tokens is back. */
const WAKE_SHARE_OF_RATE = 0.1;
/** Log lines about limits, per client, at most this many per {@link LOG_WINDOW_MS} in all. */
const LOG_LINES_PER_WINDOW = 20;
const LOG_WINDOW_MS = 10_000;

/** A token bucket: `rate` tokens per second, at most `burst`; it may go into debt. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** Tokens now (`now` in ms, monotonic). */
  available(now: number): number {
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
      this.at = now;
    }
    return this.tokens;
  }

  take(n: number): void {
    this.tokens -= n;
  }

  /** Ms until `tokens` are available (0 if they are). */
  msUntil(tokens: number, now: number): number {
    const have = this.available(now);
    return have >= tokens ? 0 : ((tokens - have) / this.rate) * 1000;
  }
}

export interface ScanResult {
  /** Bytes of the chunk that may be passed on (all of it, or up to the first PUBLISH over budget). */
  readonly end: number;
  /** PUBLISH packets that start in `[0, end)`. */
  readonly publishes: number;
  /** Set when a packet announces more than the maximum: its size in bytes. */
  readonly tooLarge?: number;
}

const enum ScanState {
  Header,
  Length,
  Body,
}

/**
 * Walks MQTT packets by their fixed headers only (type nibble, remaining length), across chunk
 * boundaries: a few operations per packet, the payload never looked at. Finds the PUBLISH packets
 * (for the rate limit) and any packet larger than `maxPacketBytes` as soon as its length is known.
 * A malformed length (more than 4 bytes) stops the scanning: Aedes' parser refuses it anyway.
 */
export class PacketScanner {
  private state = ScanState.Header;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;
  private broken = false;

  constructor(private readonly maxPacketBytes: number) {}

  /** Whether the bytes scanned so far end inside a packet. */
  get midPacket(): boolean {
    return this.state !== ScanState.Header;
  }

  /**
   * Scans `chunk`, letting at most `publishBudget` PUBLISH packets start in it, and no packet
   * start at or after `byteBudget` (but the first): the scan stops before the first packet beyond
   * (`end`), so that the rest can be given back to the stream, unparsed.
   */
  scan(
    chunk: Uint8Array,
    publishBudget = Number.POSITIVE_INFINITY,
    byteBudget = Number.POSITIVE_INFINITY,
  ): ScanResult {
    let publishes = 0;
    let i = 0;
    const n = chunk.length;
    while (i < n && !this.broken) {
      if (this.state === ScanState.Header) {
        if (i > 0 && i >= byteBudget) return { end: i, publishes };
        const type = chunk[i]! >> 4;
        if (type === 3) {
          if (publishes >= publishBudget) return { end: i, publishes };
          publishes++;
        }
        i++;
        this.state = ScanState.Length;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else if (this.state === ScanState.Length) {
        const b = chunk[i++]!;
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (b & 0x80) {
          if (this.lengthBytes >= 4) this.broken = true;
          continue;
        }
        const size = 1 + this.lengthBytes + this.length;
        if (this.maxPacketBytes > 0 && size > this.maxPacketBytes)
          return { end: i, publishes, tooLarge: size };
        this.remaining = this.length;
        this.state = this.remaining > 0 ? ScanState.Body : ScanState.Header;
      } else {
        const take = Math.min(this.remaining, n - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = ScanState.Header;
      }
    }
    return { end: n, publishes };
  }
}

/**
 * The client id of the CONNECT packet at the start of `data` (MQTT 3.1 and 3.1.1; 5 skips its
 * properties), or undefined when `data` does not start with a whole enough CONNECT.
 */
export function connectClientId(data: Uint8Array): string | undefined {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < 2 || buf[0] !== 0x10) return undefined;
  let pos = 1;
  for (let k = 0; k < 4; k++) {
    const b = buf[pos++];
    if (b === undefined) return undefined;
    if (!(b & 0x80)) break;
    if (k === 3) return undefined;
  }
  if (pos + 2 > buf.length) return undefined;
  pos += 2 + buf.readUInt16BE(pos); // protocol name
  const level = buf[pos];
  pos += 1 + 1 + 2; // level, flags, keep-alive
  if (level === 5) {
    let props = 0;
    let multiplier = 1;
    for (let k = 0; k < 4; k++) {
      const b = buf[pos++];
      if (b === undefined) return undefined;
      props += (b & 0x7f) * multiplier;
      multiplier *= 128;
      if (!(b & 0x80)) break;
    }
    pos += props;
  }
  if (pos + 2 > buf.length) return undefined;
  const idLength = buf.readUInt16BE(pos);
  if (pos + 2 + idLength > buf.length) return undefined;
  return buf.toString('utf8', pos + 2, pos + 2 + idLength);
}

/**
 * Bytes of the packet that starts `data` (fixed header included), from its remaining length; or
 * undefined while the length is not complete. NaN for a malformed length (more than 4 bytes).
 */
export function packetLength(data: Uint8Array): number | undefined {
  let length = 0;
  let multiplier = 1;
  for (let k = 0; k < 4; k++) {
    const b = data[1 + k];
    if (b === undefined) return undefined;
    length += (b & 0x7f) * multiplier;
    multiplier *= 128;
    if (!(b & 0x80)) return 2 + k + length;
  }
  return Number.NaN;
}

/** Whether an MQTT topic filter matches a topic name (`+`, `#`; `$` topics not by wildcards). */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Bytes of a PUBLISH packet on the wire. */
export function publishPacketBytes(packet: {
  topic: string;
  payload: Buffer | string;
  qos: number;
}): number {
  const body =
    2 +
    Buffer.byteLength(packet.topic) +
    (packet.qos > 0 ? 2 : 0) +
    (typeof packet.payload === 'string'
      ? Buffer.byteLength(packet.payload)
      : packet.payload.length);
  return 1 + (body < 128 ? 1 : body < 16_384 ? 2 : body < 2_097_152 ? 3 : 4) + body;
}

/** What the limits keep per connection. */
class Guard {
  readonly scanner: PacketScanner;
  readonly bucket: TokenBucket | undefined;
  /** Client id from the CONNECT, for log lines about a client Aedes has not named yet. */
  connectId: string | undefined;
  sawFirstBytes = false;
  /** Bytes of deliveries let through and not written yet (Aedes writes them a turn later). */
  reserved = 0;
  /** Since when the client is throttled (ms, monotonic); undefined = not throttled. */
  throttledSince: number | undefined;
  wake: NodeJS.Timeout | undefined;
  /** QoS-0 deliveries dropped since the subscriber last kept up. */
  shedInEpisode = 0;
  /** Left unread while the broker holds reads (too much waits to be stored). */
  held = false;
  /** Aedes is parsing what the last read returned (synchronously); `deferred`: it asked for more. */
  parsing = false;
  deferred = false;
  /** Cut off by a limit (the socket destroyed, its 'close' may not have come yet). */
  cut = false;
  closed = false;

  constructor(
    readonly stream: Duplex,
    config: LimitsConfig,
    now: number,
  ) {
    this.scanner = new PacketScanner(config.maxPacketBytes);
    this.bucket =
      config.publishRate > 0
        ? new TokenBucket(config.publishRate, Math.max(1, config.publishBurst), now)
        : undefined;
  }

  get clientId(): string {
    const client = (this.stream as { client?: { id?: string | null } }).client;
    return client?.id ?? this.connectId ?? '(no CONNECT yet)';
  }
}

type Read = (size?: number) => unknown;
type Write = (...args: unknown[]) => boolean;

/** A connection until it is authenticated: counted for its address (and, before CONNECT, at all). */
interface Connecting {
  readonly address: string;
  /** Still waiting for its whole CONNECT (in the connecting budget). */
  waiting: boolean;
  /** Counted in its address' unauthenticated connections. */
  counted: boolean;
}

/** The broker's limits (see {@link LimitsConfig}): one instance per broker. */
export class BrokerLimits {
  private readonly guards = new Map<Duplex, Guard>();
  private readonly connecting = new Map<Duplex, Connecting>();
  /** Connections before their CONNECT arrived whole. */
  private waiting = 0;
  /** Connections not authenticated yet, per remote address. */
  private readonly unauthenticated = new Map<string, number>();
  private throttledNow = 0;
  private readsHeld = false;
  private readonly wakeTokens: number;
  private logLines = 0;
  private logWindowStart = 0;
  private logSuppressed = 0;
  private readonly counts = {
    shed: { subscriber_backlog: 0 } as Record<ShedReason, number>,
    refused: {
      max_connections: 0,
      keepalive: 0,
      max_connecting: 0,
      max_connecting_per_address: 0,
    } as Record<RefusalReason, number>,
    disconnected: { packet_size: 0, publish_rate: 0, connect_timeout: 0 } as Record<
      DisconnectReason,
      number
    >,
    throttled: 0,
    throttledS: 0,
  };

  constructor(
    readonly config: LimitsConfig,
    private readonly metrics: BrokerMetrics,
    private readonly log: (line: string) => void,
    /** Client ids never refused for `maxConnections` (the ingestion's sessions). */
    private readonly exemptClientIds: readonly string[] = [],
    private readonly now: () => number = () => performance.now(),
  ) {
    this.wakeTokens = Math.max(
      1,
      Math.min(config.publishBurst, Math.ceil(config.publishRate * WAKE_SHARE_OF_RATE)),
    );
    for (const reason of Object.keys(this.counts.shed)) metrics.deliveriesShed.inc({ reason }, 0);
    for (const limit of Object.keys(this.counts.refused)) metrics.limitRefusals.inc({ limit }, 0);
    for (const limit of Object.keys(this.counts.disconnected))
      metrics.limitDisconnects.inc({ limit }, 0);
  }

  /**
   * A new connection: closed at once beyond the connecting budgets; otherwise held until its
   * CONNECT has arrived whole (at most `connectingTimeoutMs`), then refused with CONNACK 3 when
   * `maxConnections` are open, or guarded (packet size, publish rate, delivery shedding) and
   * given to `accept` with the CONNECT unread. `peerAddress`: the remote address when `stream`
   * is not a socket (WebSocket: the upgrade request's).
   */
  admit(stream: Duplex, accept: (stream: Duplex) => void, peerAddress?: string): void {
    stream.on('error', () => undefined); // a reset during CONNECT is the client's business
    const address = peerAddress ?? remoteAddressOf(stream) ?? '?';
    const perAddress = this.config.maxConnectingPerAddress;
    if (perAddress > 0 && (this.unauthenticated.get(address) ?? 0) >= perAddress) {
      this.count('refused', 'max_connecting_per_address');
      this.note(
        `connection from ${address} closed: ${perAddress} connections from it not authenticated yet (MAX_CONNECTING_PER_ADDRESS)`,
      );
      stream.destroy();
      return;
    }
    const budget = this.config.maxConnecting;
    if (budget > 0 && this.waiting >= budget) {
      this.count('refused', 'max_connecting');
      this.note(
        `connection from ${address} closed: ${budget} connections waiting for their CONNECT (MAX_CONNECTING)`,
      );
      stream.destroy();
      return;
    }
    const state: Connecting = { address, waiting: true, counted: true };
    this.connecting.set(stream, state);
    this.waiting++;
    this.unauthenticated.set(address, (this.unauthenticated.get(address) ?? 0) + 1);
    this.metrics.connecting.set(this.waiting);
    stream.once('close', () => this.authenticated(stream));

    let buffered: Buffer = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      stream.off('readable', onReadable);
      if (state.waiting) {
        state.waiting = false;
        this.waiting--;
        this.metrics.connecting.set(this.waiting);
      }
    };
    const timer = setTimeout(() => {
      done();
      this.count('disconnected', 'connect_timeout');
      this.note(
        `connection from ${address} closed: no whole CONNECT within ${this.config.connectingTimeoutMs} ms (CONNECTING_TIMEOUT_MS)`,
      );
      stream.destroy();
    }, this.config.connectingTimeoutMs);
    const onReadable = () => {
      if (!state.waiting) return;
      let chunk: Buffer | null;
      while ((chunk = stream.read() as Buffer | null) !== null)
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (buffered.length === 0) return;
      // Not a CONNECT: Aedes refuses it ([MQTT-3.1.0-1]); a CONNECT: wait until it is whole.
      const size = buffered[0] === 0x10 ? packetLength(buffered) : buffered.length;
      const max = this.config.maxPacketBytes;
      if (size !== undefined && Number.isFinite(size) && max > 0 && size > max) {
        done();
        this.count('disconnected', 'packet_size');
        this.note(
          `connection from ${address} closed: a CONNECT of ${size} bytes (MAX_PACKET_BYTES ${max})`,
        );
        stream.destroy();
        return;
      }
      if (size === undefined || buffered.length < size) return;
      done();
      this.connected(stream, buffered, accept);
    };
    stream.on('readable', onReadable);
    if (stream.readableLength > 0) onReadable();
  }

  /** Counts Aedes' own limits: the connect timeout and the keep-alive limit. */
  observe(aedes: Aedes): void {
    aedes.on('client', (client) => this.authenticated(client.conn));
    aedes.on('connectionError', (client, error) => {
      const guard = this.guards.get(client.conn);
      if (error.message === 'connect did not arrive in time') {
        this.count('disconnected', 'connect_timeout');
        this.note(`connection closed: no CONNECT in time${describePeer(client.conn)}`);
      } else if ((error as { errorCode?: number }).errorCode === 6) {
        this.count('refused', 'keepalive');
        this.note(
          `client ${guard?.connectId ?? '?'} refused (CONNACK 6): keep-alive 0 or above MAX_KEEPALIVE_S (${this.config.maxKeepaliveS} s)`,
        );
      }
    });
  }

  /**
   * Aedes' `authorizeForward`: false when the delivery is to be dropped — a QoS-0 delivery to a
   * subscriber that has more than `subscriberBufferBytes` unsent. Never drops a QoS-1 delivery.
   */
  forward(client: Client, packet: AedesPublishPacket): boolean {
    const limit = this.config.subscriberBufferBytes;
    const conn = client.conn as Duplex;
    const guard = this.guards.get(conn);
    const size = publishPacketBytes(packet);
    if (limit > 0) {
      const backlog = conn.writableLength + (guard?.reserved ?? 0);
      if (backlog + size > limit && isQoS0Delivery(client as SubscriberLike, packet)) {
        this.counts.shed.subscriber_backlog++;
        this.metrics.deliveriesShed.inc({ reason: 'subscriber_backlog' });
        if (guard && guard.shedInEpisode++ === 0)
          this.note(
            `client ${client.id}: ${backlog} bytes unsent (SUBSCRIBER_BUFFER_BYTES ${limit}): dropping QoS-0 deliveries to it`,
          );
        return false;
      }
      if (guard && guard.shedInEpisode > 0 && backlog <= limit / 2) {
        this.note(
          `client ${client.id}: keeping up again after ${guard.shedInEpisode} QoS-0 deliveries dropped`,
        );
        guard.shedInEpisode = 0;
      }
    }
    if (guard) guard.reserved += size;
    return true;
  }

  stats(): LimitStats {
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    const now = this.now();
    let throttledS = this.counts.throttledS;
    for (const g of this.guards.values())
      if (g.throttledSince !== undefined) throttledS += (now - g.throttledSince) / 1000;
    return {
      deliveriesShed: sum(this.counts.shed),
      connectionsRefused: sum(this.counts.refused),
      limitDisconnects: sum(this.counts.disconnected),
      publishThrottled: this.counts.throttled,
      clientsThrottled: this.throttledNow,
      limits: {
        shed: { ...this.counts.shed },
        refused: { ...this.counts.refused },
        disconnected: { ...this.counts.disconnected },
        throttledS: Math.round(throttledS * 1000) / 1000,
      },
    };
  }

  /**
   * Back-pressure from storage: while on, no connection's bytes are handed to Aedes (they wait in
   * the socket; TCP pushes back into the clients). Off: every connection left unread is read.
   */
  holdReads(on: boolean): void {
    if (this.readsHeld === on) return;
    this.readsHeld = on;
    if (on) return;
    for (const guard of this.guards.values()) {
      if (!guard.held || guard.closed) continue;
      guard.held = false;
      guard.stream.emit('readable');
    }
  }

  /** Stops the timers of throttled clients, closes connections still before CONNECT (the broker is closing). */
  close(): void {
    for (const g of this.guards.values()) clearTimeout(g.wake);
    for (const [stream, state] of this.connecting) if (state.waiting) stream.destroy();
  }

  /** Wraps the stream's `read` (scanner, rate limit) and `write` (unsent bytes as seen by Aedes). */
  private guard(stream: Duplex): Duplex {
    const guard = new Guard(stream, this.config, this.now());
    this.guards.set(stream, guard);
    stream.once('close', () => this.closed(guard));

    const read = stream.read.bind(stream) as Read;
    stream.read = ((size?: number) => {
      // Cut off: a destroyed stream still hands out what it buffered, unscanned. Nothing more.
      if (guard.cut) return null;
      return size === 0 || guard.closed ? read(size) : this.read(guard, read, size);
    }) as Duplex['read'];

    const write = stream.write.bind(stream) as Write;
    // Aedes waits for 'drain' whenever a write returns false, holding one of its 100 delivery
    // slots: a subscriber that stops reading would stall every publisher. Report the stream full
    // only at twice the shedding threshold (QoS-0 deliveries stop at the threshold, so only
    // QoS-1 ones wait: their back-pressure). Returning true when the stream itself said false is
    // always safe: only a false asks for 'drain', and then the stream said false too.
    const fullAt = 2 * this.config.subscriberBufferBytes;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const ok = write(chunk, ...rest);
      if (guard.reserved > 0) guard.reserved = Math.max(0, guard.reserved - byteLength(chunk));
      return ok || stream.writableLength < fullAt;
    }) as Duplex['write'];
    return stream;
  }

  private read(guard: Guard, read: Read, size: number | undefined): unknown {
    // A message that completes synchronously (no subscriber) makes Aedes read again from inside
    // its parser's loop. Aedes' own read drained the buffer, so that nested read found nothing;
    // here the buffer may hold what a read left unparsed, and parsing it in the middle of another
    // chunk corrupts the parser. Refuse it, and tell Aedes to read once the chunk is parsed.
    if (guard.parsing) {
      guard.deferred = true;
      return null;
    }
    const data = this.take(guard, read, size);
    if (data !== null && data !== undefined) {
      guard.parsing = true;
      queueMicrotask(() => {
        guard.parsing = false;
        if (guard.deferred && !guard.closed) {
          guard.deferred = false;
          guard.stream.emit('readable');
        }
      });
    }
    return data;
  }

  /** The bytes Aedes may parse now: within its rate, a share per read, no oversized packet. */
  private take(guard: Guard, read: Read, size: number | undefined): unknown {
    if (this.readsHeld) {
      guard.held = true;
      return null;
    }
    const now = this.now();
    const bucket = guard.bucket;
    let budget = MAX_PUBLISHES_PER_READ;
    if (bucket) {
      const tokens = bucket.available(now);
      if (tokens < 1) {
        this.throttle(guard, now);
        return null;
      }
      budget = Math.min(budget, Math.floor(tokens));
    }
    // Leave the stream its high-water mark when it holds more: then it reads nothing more from the
    // socket, so a read never lets in more than it hands on. Taking everything and giving back
    // the rest let each read pull in one more socket chunk: the buffer of a client sending faster
    // than it was read grew without end, and each read copied all of it.
    const stream = guard.stream;
    const spare = stream.readableLength - stream.readableHighWaterMark;
    const data = read(spare >= MAX_BYTES_PER_READ ? spare : size);
    if (!(data instanceof Uint8Array) || data.length === 0) {
      // Tokens to spare and nothing waiting: a throttled client has caught up.
      if (guard.throttledSince !== undefined && data === null)
        this.caughtUp(guard, now, guard.throttledSince);
      return data;
    }
    if (!guard.sawFirstBytes) {
      guard.sawFirstBytes = true;
      guard.connectId = connectClientId(data);
    }
    const scan = guard.scanner.scan(data, budget, MAX_BYTES_PER_READ);
    if (scan.tooLarge !== undefined) {
      this.disconnect(
        guard,
        'packet_size',
        `a packet of ${scan.tooLarge} bytes (MAX_PACKET_BYTES ${this.config.maxPacketBytes})`,
      );
      return null;
    }
    bucket?.take(scan.publishes);
    // A slice that ends inside a packet while more is buffered: Aedes' parser waits for the rest,
    // and no new data will say 'readable' (the stream is full): say it once the slice is parsed.
    if (scan.end === data.length && guard.scanner.midPacket && stream.readableLength > 0)
      guard.deferred = true;
    if (scan.end < data.length) {
      // Beyond this read's share, or over the rate: the rest goes back to the stream, unparsed.
      guard.stream.unshift(data.subarray(scan.end));
      if (bucket && bucket.available(now) < 1) this.throttle(guard, now);
      return scan.end > 0 ? data.subarray(0, scan.end) : null;
    }
    if (guard.throttledSince !== undefined && bucket && bucket.available(now) >= 1)
      this.caughtUp(guard, now, guard.throttledSince);
    return data;
  }

  /** Leaves the client unread until tokens are back; disconnects it after sustained abuse. */
  private throttle(guard: Guard, now: number): void {
    const bucket = guard.bucket!;
    const limitMs = this.config.throttleDisconnectMs;
    if (guard.throttledSince === undefined) {
      guard.throttledSince = now;
      this.throttledNow++;
      this.counts.throttled++;
      this.metrics.publishThrottled.inc();
      this.metrics.clientsThrottled.set(this.throttledNow);
      this.note(
        `client ${guard.clientId} throttled: publishing above ${this.config.publishRate} msg/s`,
      );
    } else if (
      limitMs > 0 &&
      now - guard.throttledSince >= limitMs &&
      guard.stream.readableLength > 0
    ) {
      this.disconnect(
        guard,
        'publish_rate',
        `above ${this.config.publishRate} msg/s for ${Math.round((now - guard.throttledSince) / 1000)} s`,
      );
      return;
    }
    if (guard.wake) return;
    let ms = bucket.msUntil(this.wakeTokens, now);
    if (limitMs > 0) ms = Math.min(ms, guard.throttledSince + limitMs - now);
    guard.wake = setTimeout(
      () => {
        guard.wake = undefined;
        // Aedes reads on 'readable': this makes it ask again, now that tokens are back.
        if (!guard.closed) guard.stream.emit('readable');
      },
      Math.max(1, Math.ceil(ms)),
    );
  }

  private caughtUp(guard: Guard, now: number, since: number): void {
    this.counts.throttledS += (now - since) / 1000;
    this.metrics.publishThrottledSeconds.inc((now - since) / 1000);
    guard.throttledSince = undefined;
    this.throttledNow--;
    this.metrics.clientsThrottled.set(this.throttledNow);
  }

  /**
   * Cuts the client off, once. A destroyed socket says 'close' only later (after its handle is
   * closed): until then Aedes may still read and a wake-up may still fire, and each would cut —
   * and count — again. From here its reads get nothing, though the destroyed stream still
   * buffers the rest of what the client sent.
   */
  private disconnect(guard: Guard, reason: DisconnectReason, why: string): void {
    if (guard.cut) return;
    guard.cut = true;
    clearTimeout(guard.wake);
    guard.wake = undefined;
    this.count('disconnected', reason);
    this.note(`client ${guard.clientId} disconnected: ${why}`);
    guard.stream.destroy();
  }

  private closed(guard: Guard): void {
    guard.closed = true;
    clearTimeout(guard.wake);
    if (guard.throttledSince !== undefined) this.caughtUp(guard, this.now(), guard.throttledSince);
    if (guard.shedInEpisode > 0)
      this.note(
        `client ${guard.clientId} gone after ${guard.shedInEpisode} QoS-0 deliveries dropped`,
      );
    this.guards.delete(guard.stream);
  }

  /** Whatever the stage, the connection is no longer unauthenticated (authenticated, or gone). */
  private authenticated(stream: Duplex): void {
    const state = this.connecting.get(stream);
    if (!state) return;
    this.connecting.delete(stream);
    if (state.counted) {
      state.counted = false;
      const left = (this.unauthenticated.get(state.address) ?? 1) - 1;
      if (left > 0) this.unauthenticated.set(state.address, left);
      else this.unauthenticated.delete(state.address);
    }
  }

  /**
   * The CONNECT (`data`, unread again in the stream) has arrived: above `maxConnections` the
   * client gets CONNACK 3 and is closed — unless it is one of the ingestion's, which the pipeline
   * must never lock out; otherwise it goes to Aedes.
   */
  private connected(stream: Duplex, data: Buffer, accept: (stream: Duplex) => void): void {
    const max = this.config.maxConnections;
    const id = connectClientId(data);
    if (
      max <= 0 ||
      this.guards.size < max ||
      (id !== undefined && this.exemptClientIds.includes(id))
    ) {
      stream.unshift(data);
      accept(this.guard(stream));
      return;
    }
    this.authenticated(stream);
    this.count('refused', 'max_connections');
    this.note(`client ${id ?? '?'} refused (CONNACK 3): MAX_CONNECTIONS (${max}) connections open`);
    stream.end(CONNACK_SERVER_UNAVAILABLE);
    setTimeout(() => stream.destroy(), REFUSE_WAIT_MS).unref();
  }

  private count(kind: 'refused', reason: RefusalReason): void;
  private count(kind: 'disconnected', reason: DisconnectReason): void;
  private count(kind: 'refused' | 'disconnected', reason: RefusalReason | DisconnectReason): void {
    if (kind === 'refused') {
      this.counts.refused[reason as RefusalReason]++;
      this.metrics.limitRefusals.inc({ limit: reason });
    } else {
      this.counts.disconnected[reason as DisconnectReason]++;
      this.metrics.limitDisconnects.inc({ limit: reason });
    }
  }

  /** A log line, at most {@link LOG_LINES_PER_WINDOW} per window (a flood must not flood the log). */
  private note(line: string): void {
    const now = this.now();
    if (now - this.logWindowStart >= LOG_WINDOW_MS) {
      if (this.logSuppressed > 0)
        this.log(`limits: ${this.logSuppressed} more lines suppressed (see /metrics)`);
      this.logWindowStart = now;
      this.logLines = 0;
      this.logSuppressed = 0;
    }
    if (this.logLines++ < LOG_LINES_PER_WINDOW) this.log(line);
    else this.logSuppressed++;
  }
}

/** What {@link isQoS0Delivery} reads of an Aedes client (its subscriptions are not in the typings). */
export interface SubscriberLike {
  readonly subscriptions?: Record<string, { readonly qos?: number } | undefined>;
}

/**
 * Whether Aedes delivers `packet` to `client` at QoS 0: it was published at QoS 0, or none of the
 * client's subscriptions that match it was granted QoS 1 or 2 (Aedes delivers at the QoS of the
 * subscription, at most the publish's). Overlapping subscriptions count as QoS 1 if any is.
 */
export function isQoS0Delivery(
  client: SubscriberLike,
  packet: { topic: string; qos: number },
): boolean {
  if (packet.qos === 0) return true;
  for (const [filter, sub] of Object.entries(client.subscriptions ?? {}))
    if ((sub?.qos ?? 0) > 0 && topicMatches(filter, packet.topic)) return false;
  return true;
}

function byteLength(chunk: unknown): number {
  if (chunk instanceof Uint8Array) return chunk.length;
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : 0;
}

function describePeer(stream: Duplex): string {
  const address = remoteAddressOf(stream);
  return address ? ` from ${address}` : '';
}

function remoteAddressOf(stream: Duplex): string | undefined {
  return (stream as { remoteAddress?: string }).remoteAddress;
}
