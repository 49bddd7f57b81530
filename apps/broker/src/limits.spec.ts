import { Duplex } from 'node:stream';
import type { AedesPublishPacket, Client } from 'aedes';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from './config.js';
import {
  BrokerLimits,
  CONNACK_SERVER_UNAVAILABLE,
  DEFAULT_LIMITS,
  MAX_PUBLISHES_PER_READ,
  PacketScanner,
  TokenBucket,
  connectClientId,
  isQoS0Delivery,
  publishPacketBytes,
  topicMatches,
  type LimitsConfig,
} from './limits.js';
import { BrokerMetrics } from './metrics.js';

// ---- MQTT 3.1.1 bytes, written out by hand so that the scanner is checked against the spec ----

function varLength(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

const str = (s: string) => {
  const b = Buffer.from(s);
  return [b.length >> 8, b.length & 0xff, ...b];
};

function publish(topic: string, payload: Buffer | string, qos: 0 | 1 = 0, id = 1): Buffer {
  const body = [...str(topic), ...(qos > 0 ? [id >> 8, id & 0xff] : []), ...Buffer.from(payload)];
  return Buffer.from([0x30 | (qos << 1), ...varLength(body.length), ...body]);
}

function connect(clientId: string, level: 4 | 5 = 4): Buffer {
  const body = [
    ...str('MQTT'),
    level,
    0x02, // clean session
    0,
    60,
    ...(level === 5 ? [0] : []), // no properties
    ...str(clientId),
  ];
  return Buffer.from([0x10, ...varLength(body.length), ...body]);
}

const PINGREQ = Buffer.from([0xc0, 0x00]);

describe('TokenBucket', () => {
  it('starts full, refills at its rate up to its burst, and may go into debt', () => {
    const b = new TokenBucket(10, 20, 0);
    expect(b.available(0)).toBe(20);
    b.take(25);
    expect(b.available(0)).toBe(-5);
    expect(b.msUntil(1, 0)).toBe(600);
    expect(b.available(600)).toBeCloseTo(1);
    expect(b.available(60_000)).toBe(20);
  });
});

describe('PacketScanner', () => {
  it('counts PUBLISH packets, not the others, across any split of the bytes', () => {
    const bytes = Buffer.concat([
      connect('d-1'),
      publish('parks/a', 'x'.repeat(200)),
      PINGREQ,
      publish('parks/b', 'y'.repeat(20_000), 1),
      publish('parks/c', ''),
    ]);
    for (const step of [1, 2, 3, 7, 150, bytes.length]) {
      const scanner = new PacketScanner(0);
      let publishes = 0;
      for (let i = 0; i < bytes.length; i += step)
        publishes += scanner.scan(bytes.subarray(i, i + step)).publishes;
      expect({ step, publishes }).toEqual({ step, publishes: 3 });
    }
  });

  it('finds a packet above the maximum from its header, before its body has arrived', () => {
    const big = publish('parks/a', 'x'.repeat(5_000));
    const scanner = new PacketScanner(4_096);
    const small = publish('parks/a', 'small');
    expect(scanner.scan(small)).toEqual({ end: small.length, publishes: 1 });
    const result = scanner.scan(big.subarray(0, 4)); // type + 2 length bytes + 1 more
    expect(result.tooLarge).toBe(big.length);
  });

  it('lets a packet of exactly the maximum through', () => {
    const p = publish('parks/a', 'x'.repeat(100));
    expect(new PacketScanner(p.length).scan(p).tooLarge).toBeUndefined();
    expect(new PacketScanner(p.length - 1).scan(p).tooLarge).toBe(p.length);
  });

  it('stops before the first PUBLISH over the budget, at a packet boundary', () => {
    const one = publish('parks/a', 'x');
    const bytes = Buffer.concat([PINGREQ, one, one, PINGREQ, one]);
    const scanner = new PacketScanner(0);
    const first = scanner.scan(bytes, 2);
    expect(first).toEqual({ end: PINGREQ.length + 2 * one.length + PINGREQ.length, publishes: 2 });
    // the rest, given back to the stream, scans from a packet start
    expect(scanner.scan(bytes.subarray(first.end), 5)).toEqual({ end: one.length, publishes: 1 });
  });

  it('stops at the byte budget, but always lets the first packet through', () => {
    const one = publish('parks/a', 'x'.repeat(100));
    const bytes = Buffer.concat([one, one, one]);
    expect(new PacketScanner(0).scan(bytes, Infinity, 150).end).toBe(2 * one.length);
    expect(new PacketScanner(0).scan(bytes, Infinity, 10).end).toBe(one.length);
  });

  it('gives up on a malformed length (Aedes refuses the packet) without counting on', () => {
    const scanner = new PacketScanner(100);
    const bad = Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 0x30, 0x00]);
    expect(scanner.scan(bad)).toEqual({ end: bad.length, publishes: 1 });
    expect(scanner.scan(publish('a', 'b'))).toEqual({ end: 6, publishes: 0 });
  });
});

describe('helpers', () => {
  it('reads the client id of a CONNECT (3.1.1 and 5), or nothing from a partial one', () => {
    expect(connectClientId(connect('cnc-42'))).toBe('cnc-42');
    expect(connectClientId(connect('cnc-42', 5))).toBe('cnc-42');
    expect(connectClientId(connect('cnc-42').subarray(0, 12))).toBeUndefined();
    expect(connectClientId(PINGREQ)).toBeUndefined();
  });

  it('matches topic filters as MQTT does', () => {
    expect(topicMatches('parks/#', 'parks/a/b')).toBe(true);
    expect(topicMatches('parks/#', 'parks')).toBe(true);
    expect(topicMatches('parks/+/b', 'parks/a/b')).toBe(true);
    expect(topicMatches('parks/+/b', 'parks/a/c')).toBe(false);
    expect(topicMatches('parks/+', 'parks/a/b')).toBe(false);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/x')).toBe(true);
  });

  it('knows the size of a PUBLISH on the wire', () => {
    for (const [payload, qos] of [
      ['', 0],
      ['x'.repeat(100), 1],
      ['x'.repeat(20_000), 0],
    ] as const)
      expect(publishPacketBytes({ topic: 'parks/é', payload, qos })).toBe(
        publish('parks/é', payload, qos).length,
      );
  });

  it('tells a QoS-0 delivery: QoS-0 publish, or no matching subscription above QoS 0', () => {
    const client = { subscriptions: { 'parks/#': { qos: 0 }, 'parks/a/+': { qos: 1 } } };
    expect(isQoS0Delivery(client, { topic: 'parks/b/c', qos: 1 })).toBe(true);
    expect(isQoS0Delivery(client, { topic: 'parks/a/c', qos: 1 })).toBe(false);
    expect(isQoS0Delivery(client, { topic: 'parks/a/c', qos: 0 })).toBe(true);
  });

  it('reads every limit from the environment, with defaults', () => {
    expect(loadConfig({}).limits).toEqual(DEFAULT_LIMITS);
    expect(
      loadConfig({
        MAX_PACKET_BYTES: '4096',
        MAX_CONNECTIONS: '10',
        MAX_KEEPALIVE_S: '0',
        PUBLISH_RATE_LIMIT: '20',
        PUBLISH_BURST: '40',
        THROTTLE_DISCONNECT_MS: '3000',
        SUBSCRIBER_BUFFER_BYTES: '65536',
        MAX_CONNECTING: '50',
        MAX_CONNECTING_PER_ADDRESS: '5',
        CONNECTING_TIMEOUT_MS: '2000',
      }).limits,
    ).toEqual({
      maxPacketBytes: 4096,
      maxConnections: 10,
      maxKeepaliveS: 0,
      publishRate: 20,
      publishBurst: 40,
      throttleDisconnectMs: 3000,
      subscriberBufferBytes: 65536,
      maxConnecting: 50,
      maxConnectingPerAddress: 5,
      connectingTimeoutMs: 2000,
    });
  });
});

// ---- BrokerLimits on in-memory streams, as Aedes drives them: 'readable', then read(null) ----

/** A connection: `incoming()` is what the client sent; writes stay unsent until `flush()`. */
function fakeConnection(): Duplex & { sent: Buffer[]; flush(): void } {
  const held: (() => void)[] = [];
  const sent: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      sent.push(chunk);
      held.push(cb);
    },
  });
  return Object.assign(stream, {
    sent,
    flush() {
      // each callback lets the stream hand over its next buffered chunk, synchronously
      while (held.length > 0) held.shift()!();
    },
  });
}

async function counter(c: { get(): Promise<{ values: { value: number; labels: object }[] }> }) {
  return Object.fromEntries(
    (await c.get()).values.map((v) => [Object.values(v.labels).join(',') || 'total', v.value]),
  );
}

describe('BrokerLimits', () => {
  let clock = 0;
  const lines: string[] = [];
  const make = (overrides: Partial<LimitsConfig> = {}) => {
    const metrics = new BrokerMetrics();
    const limits = new BrokerLimits(
      { ...DEFAULT_LIMITS, ...overrides },
      metrics,
      (l) => lines.push(l),
      ['parkpulse-ingestion'],
      () => clock,
    );
    return { metrics, limits };
  };
  /** A connection past its CONNECT (read by "Aedes"), as the tests below need it. */
  const admitted = async (limits: BrokerLimits, id = 'd-1') => {
    const result: { conn: ReturnType<typeof fakeConnection>; accepted?: Duplex } = {
      conn: fakeConnection(),
    };
    result.conn.push(connect(id));
    limits.admit(result.conn, (s) => (result.accepted = s));
    expect(result.accepted?.read()).toEqual(connect(id));
    await Promise.resolve();
    return result;
  };

  afterEach(() => {
    vi.useRealTimers();
    lines.length = 0;
    clock = 0;
  });

  it('passes a well-behaved client through unchanged', async () => {
    const { limits } = make();
    const { conn, accepted } = await admitted(limits);
    expect(accepted).toBe(conn);
    const bytes = Buffer.concat([publish('parks/a', 'hello'), publish('parks/b', 'hello')]);
    conn.push(bytes);
    expect(conn.read()).toEqual(bytes);
  });

  it('disconnects a client whose packet is above the maximum, and counts it', async () => {
    const { limits, metrics } = make({ maxPacketBytes: 1024 });
    const { conn } = await admitted(limits, 'big-1');
    const big = publish('parks/a', 'x'.repeat(2000));
    conn.push(big.subarray(0, 10));
    expect(conn.read()).toBeNull();
    expect(conn.destroyed).toBe(true);
    expect((await counter(metrics.limitDisconnects))['packet_size']).toBe(1);
    expect(lines.join('\n')).toContain(
      `client big-1 disconnected: a packet of ${big.length} bytes (MAX_PACKET_BYTES 1024)`,
    );
  });

  it('reads a client above its rate only as far as its tokens go, then throttles it', async () => {
    vi.useFakeTimers();
    const { limits, metrics } = make({ publishRate: 10, publishBurst: 5, throttleDisconnectMs: 0 });
    const { conn } = await admitted(limits);
    const one = publish('parks/a', 'x');
    conn.push(Buffer.concat(Array.from({ length: 12 }, () => one)));
    const first = conn.read() as Buffer;
    expect(first.length).toBe(5 * one.length); // the burst
    await Promise.resolve();
    expect(conn.read()).toBeNull(); // no tokens: unread, TCP pushes back
    expect(conn.readableLength).toBe(7 * one.length);
    let woken = 0;
    conn.on('readable', () => woken++);
    clock = 100; // one token back
    await vi.advanceTimersByTimeAsync(100);
    expect(woken).toBeGreaterThan(0);
    expect((conn.read() as Buffer).length).toBe(one.length);
    expect(await counter(metrics.publishThrottled)).toEqual({ total: 1 });
    expect(await counter(metrics.clientsThrottled)).toEqual({ total: 1 });
    await Promise.resolve();
    clock = 10_000; // the client stopped sending: its bucket is full again (5)
    expect((conn.read() as Buffer).length).toBe(5 * one.length);
    await Promise.resolve();
    clock = 10_100;
    expect((conn.read() as Buffer).length).toBe(one.length);
    await Promise.resolve();
    clock = 10_200;
    expect(conn.read()).toBeNull(); // a token to spare, nothing waiting: caught up
    expect(await counter(metrics.clientsThrottled)).toEqual({ total: 0 });
    expect(await counter(metrics.publishThrottled)).toEqual({ total: 1 });
    expect((await counter(metrics.publishThrottledSeconds))['total']).toBeCloseTo(10.2);
  });

  it('disconnects a client that stays above its rate without a break', async () => {
    const { limits, metrics } = make({
      publishRate: 10,
      publishBurst: 1,
      throttleDisconnectMs: 3000,
    });
    const { conn } = await admitted(limits);
    const one = publish('parks/a', 'x');
    conn.push(Buffer.concat(Array.from({ length: 100 }, () => one)));
    for (let t = 0; t <= 3000 && !conn.destroyed; t += 100) {
      clock = t;
      conn.read();
      await Promise.resolve();
    }
    expect(conn.destroyed).toBe(true);
    // Destroyed, but not closed yet: Aedes may still read, a wake-up may still fire. A destroyed
    // stream still hands out what it buffered: the rest of the flood must not reach Aedes
    // unscanned. The cut is counted once.
    expect(conn.readableLength).toBeGreaterThan(0);
    expect(conn.read()).toBeNull();
    conn.emit('readable');
    expect(conn.read()).toBeNull();
    await Promise.resolve();
    expect((await counter(metrics.limitDisconnects))['publish_rate']).toBe(1);
    limits.close();
  });

  it(`hands Aedes at most ${MAX_PUBLISHES_PER_READ} publishes per read, and never nested reads`, async () => {
    const { limits } = make({ publishRate: 0 });
    const { conn } = await admitted(limits);
    const one = publish('parks/a', 'x');
    conn.push(Buffer.concat(Array.from({ length: 250 }, () => one)));
    expect((conn.read() as Buffer).length).toBe(MAX_PUBLISHES_PER_READ * one.length);
    // Aedes reading again while it parses that chunk (synchronous completions) gets nothing…
    expect(conn.read()).toBeNull();
    const readable = new Promise((r) => conn.once('readable', r));
    await Promise.resolve();
    // …and is told to read once the chunk is parsed.
    await readable;
    expect((conn.read() as Buffer).length).toBe(MAX_PUBLISHES_PER_READ * one.length);
  });

  it('refuses a connection above the maximum with CONNACK 3, but never the ingestion', async () => {
    const { limits, metrics } = make({ maxConnections: 2 });
    await admitted(limits, 'd-1');
    await admitted(limits, 'd-2');
    const refused = { conn: fakeConnection(), accepted: undefined as Duplex | undefined };
    limits.admit(refused.conn, (s) => (refused.accepted = s));
    refused.conn.push(connect('late-1'));
    await new Promise((r) => setImmediate(r));
    expect(refused.accepted).toBeUndefined();
    expect(Buffer.concat(refused.conn.sent)).toEqual(CONNACK_SERVER_UNAVAILABLE);
    expect(refused.conn.writableEnded).toBe(true);
    expect((await counter(metrics.limitRefusals))['max_connections']).toBe(1);
    expect(lines.join('\n')).toContain('client late-1 refused (CONNACK 3)');

    const ingestion = await admitted(limits, 'parkpulse-ingestion');
    expect(ingestion.accepted).toBe(ingestion.conn);
  });

  it('holds a connection until its CONNECT is whole, outside MAX_CONNECTIONS, then hands it on', async () => {
    const { limits, metrics } = make({ maxConnections: 1 });
    let accepted: Duplex | undefined;
    const silent = fakeConnection();
    limits.admit(silent, () => undefined);
    const conn = fakeConnection();
    limits.admit(conn, (s) => (accepted = s));
    const bytes = connect('d-9');
    conn.push(bytes.subarray(0, 5)); // half a CONNECT
    await new Promise((r) => setImmediate(r));
    expect(accepted).toBeUndefined();
    expect(await counter(metrics.connecting)).toEqual({ total: 2 });
    conn.push(bytes.subarray(5));
    await new Promise((r) => setImmediate(r));
    expect(accepted).toBe(conn); // the silent one took no slot
    expect(conn.read()).toEqual(bytes);
    expect(await counter(metrics.connecting)).toEqual({ total: 1 });
  });

  it('closes sockets beyond the connecting budgets, per address and in all, and slow ones', async () => {
    vi.useFakeTimers();
    const { limits, metrics } = make({
      maxConnecting: 3,
      maxConnectingPerAddress: 2,
      connectingTimeoutMs: 1000,
    });
    const from = (address: string) => Object.assign(fakeConnection(), { remoteAddress: address });
    const a = [from('10.0.0.1'), from('10.0.0.1'), from('10.0.0.1')];
    for (const c of a) limits.admit(c, () => undefined);
    expect(a.map((c) => c.destroyed)).toEqual([false, false, true]);
    const b = [from('10.0.0.2'), from('10.0.0.2')];
    for (const c of b) limits.admit(c, () => undefined);
    expect(b.map((c) => c.destroyed)).toEqual([false, true]); // the budget of 3 in all
    const ws = fakeConnection();
    limits.admit(ws, () => undefined, '10.0.0.3'); // a WebSocket: its upgrade's address
    expect(ws.destroyed).toBe(true);
    expect(await counter(metrics.limitRefusals)).toMatchObject({
      max_connecting_per_address: 1,
      max_connecting: 2,
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect([a[0], a[1], b[0]].map((c) => c!.destroyed)).toEqual([true, true, true]);
    expect((await counter(metrics.limitDisconnects))['connect_timeout']).toBe(3);
    expect(lines.join('\n')).toContain('no whole CONNECT within 1000 ms');
  });

  it('drops QoS-0 deliveries to a subscriber too far behind, never QoS-1 ones', async () => {
    const { limits, metrics } = make({ subscriberBufferBytes: 10_000 });
    const { conn } = await admitted(limits);
    const client = {
      id: 'obs-1',
      conn,
      subscriptions: { 'parks/#': { qos: 0 }, 'parks/q1/#': { qos: 1 } },
    } as unknown as Client;
    const packet = (topic: string, qos: 0 | 1) =>
      ({ cmd: 'publish', topic, payload: Buffer.alloc(1000), qos }) as AedesPublishPacket;
    let forwarded = 0;
    for (let i = 0; i < 30; i++) {
      if (!limits.forward(client, packet('parks/a', 0))) continue;
      forwarded++;
      conn.write(publish('parks/a', Buffer.alloc(1000))); // what Aedes writes next
    }
    expect(forwarded).toBe(9); // 9 × 1,012 bytes unsent: the 10th would pass 10,000
    expect(limits.forward(client, packet('parks/a', 1))).toBe(false); // delivered at QoS 0
    expect(limits.forward(client, packet('parks/q1/a', 1))).toBe(true); // QoS 1: waits
    expect(await counter(metrics.deliveriesShed)).toEqual({ subscriber_backlog: 22 });
    expect(limits.stats()).toMatchObject({
      deliveriesShed: 22,
      limits: { shed: { subscriber_backlog: 22 } },
    });
    conn.flush();
    expect(limits.forward(client, packet('parks/a', 0))).toBe(true);
    expect(lines.join('\n')).toMatch(/obs-1.*keeping up again after 22 QoS-0 deliveries dropped/);
  });

  it('reports the stream full to Aedes only at twice the shedding threshold', async () => {
    const { limits } = make({ subscriberBufferBytes: 100_000 });
    const { conn } = await admitted(limits);
    const chunk = Buffer.alloc(50_000);
    expect(conn.write(chunk)).toBe(true); // above the stream's own 16 KiB mark
    expect(conn.write(chunk)).toBe(true);
    expect(conn.write(chunk)).toBe(true);
    expect(conn.write(chunk)).toBe(false); // 200,000 bytes unsent: Aedes waits for 'drain'
    expect(conn.writableNeedDrain).toBe(true);
  });
});
