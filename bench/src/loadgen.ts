import { connect, type Socket } from 'node:net';
import { deviceCredentials } from '@parkpulse/dev-services';
import mqttPacket, { type Packet } from 'mqtt-packet';

/** Keep-alive asked for at CONNECT, s (the broker refuses 0 and above MAX_KEEPALIVE_S). */
export const KEEPALIVE_S = 60;

/**
 * A lean MQTT 3.1.1 publisher for benchmarks: raw TCP, mqtt-packet, QoS 1, an in-flight window
 * per connection. Lean on purpose: the load generator shares the machine's two cores with what
 * it measures, so it must cost as little as it can per message. It logs in as a device of the dev
 * enrolment group (username = client id, its derived key) unless given other credentials.
 */
export class BenchClient {
  private socket: Socket | undefined;
  private nextId = 1;
  private readonly sentAt = new Map<number, number>();
  private onAck: ((latencyMs: number) => void) | undefined;
  private onPublish: ((topic: string, payload: Buffer) => void) | undefined;
  private pinger: NodeJS.Timeout | undefined;
  inflight = 0;
  acked = 0;

  constructor(
    readonly clientId: string,
    private readonly host: string,
    private readonly port: number,
    private readonly credentials: {
      readonly username: string;
      readonly password: string;
    } = deviceCredentials(clientId),
  ) {}

  /** Connects (clean session, with `will` if given) and resolves on CONNACK 0. */
  async connect(
    onAck?: (latencyMs: number) => void,
    will?: { readonly topic: string; readonly payload: Buffer; readonly qos: 0 | 1 },
  ): Promise<void> {
    this.onAck = onAck;
    const socket = connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    this.socket = socket;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    await new Promise<void>((resolve, reject) => {
      parser.on('packet', (packet: Packet) => {
        if (packet.cmd === 'connack') {
          if (packet.returnCode === 0) resolve();
          else reject(new Error(`${this.clientId}: CONNACK ${packet.returnCode}`));
        } else if (packet.cmd === 'puback' && packet.messageId !== undefined) {
          const t = this.sentAt.get(packet.messageId);
          if (t === undefined) return;
          this.sentAt.delete(packet.messageId);
          this.inflight--;
          this.acked++;
          this.onAck?.(performance.now() - t);
        } else if (packet.cmd === 'publish') {
          this.onPublish?.(packet.topic, packet.payload as Buffer);
          if (packet.qos === 1 && packet.messageId !== undefined)
            socket.write(mqttPacket.generate({ cmd: 'puback', messageId: packet.messageId }));
        }
      });
      socket.on('data', (chunk: Buffer) => parser.parse(chunk));
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`${this.clientId}: closed before CONNACK`)));
      socket.once('connect', () =>
        socket.write(
          mqttPacket.generate({
            cmd: 'connect',
            protocolId: 'MQTT',
            protocolVersion: 4,
            clean: true,
            clientId: this.clientId,
            username: this.credentials.username,
            password: Buffer.from(this.credentials.password),
            keepalive: KEEPALIVE_S,
            ...(will ? { will: { ...will, retain: false } } : {}),
          }),
        ),
      );
    });
    // Idle connections (the memory figure) must not time out: half the keep-alive, like clients do.
    const ping = mqttPacket.generate({ cmd: 'pingreq' });
    this.pinger = setInterval(() => socket.write(ping), (KEEPALIVE_S * 1000) / 2).unref();
    socket.once('close', () => clearInterval(this.pinger));
  }

  /** Whether the connection is gone (closed by either side). */
  get isClosed(): boolean {
    return this.socket?.destroyed ?? false;
  }

  /** Writes bytes as they are (pre-built packets, e.g. {@link qos0Packet}); false = buffer full. */
  write(bytes: Buffer): boolean {
    if (!this.socket) throw new Error('not connected');
    return this.socket.write(bytes);
  }

  /** Resolves when the socket's buffer has drained (after {@link write} returned false). */
  drained(): Promise<void> {
    const socket = this.socket;
    return new Promise((resolve) => {
      if (!socket || socket.destroyed) return resolve();
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.once('drain', done);
      socket.once('close', done);
    });
  }

  /** Publishes at QoS 1 (or 0); returns false when the socket's buffer is full (back off). */
  publish(topic: string, payload: string | Buffer, qos: 0 | 1 = 1): boolean {
    const socket = this.socket;
    if (!socket) throw new Error('not connected');
    if (qos === 0)
      return socket.write(
        mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, dup: false, retain: false }),
      );
    const messageId = this.nextId;
    this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1;
    this.sentAt.set(messageId, performance.now());
    this.inflight++;
    return socket.write(
      mqttPacket.generate({
        cmd: 'publish',
        topic,
        payload,
        qos: 1,
        messageId,
        dup: false,
        retain: false,
      }),
    );
  }

  subscribe(topic: string, qos: 0 | 1, onMessage: (topic: string, payload: Buffer) => void): void {
    const socket = this.socket;
    if (!socket) throw new Error('not connected');
    this.onPublish = onMessage;
    socket.write(
      mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] }),
    );
  }

  close(): void {
    clearInterval(this.pinger);
    this.socket?.end(mqttPacket.generate({ cmd: 'disconnect' }));
  }

  destroy(): void {
    clearInterval(this.pinger);
    this.socket?.destroy();
  }
}

/** A QoS-0 PUBLISH as bytes. */
export function qos0Packet(topic: string, payload: string): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, dup: false, retain: false });
}

export interface LoadOptions {
  readonly host: string;
  readonly port: number;
  readonly devices: number;
  /** Messages per second over all devices; 0 = flat-out (every window kept full). */
  readonly rate: number;
  readonly durationMs: number;
  /** In-flight QoS-1 publishes per device. */
  readonly window: number;
  /** Client id / device id prefix (distinct per run, so runs never share series). */
  readonly prefix: string;
  /** How long to wait for the last PUBACKs after publishing stopped. */
  readonly drainMs?: number;
}

export interface LoadResult {
  readonly devices: number;
  readonly offeredRate: number;
  readonly sent: number;
  readonly acked: number;
  /** Publishing time, s (first to last publish). */
  readonly publishS: number;
  readonly sentPerS: number;
  /** Wall-clock ms of the first and the last publish. */
  readonly firstPublishMs: number;
  readonly lastPublishMs: number;
  readonly pubackMs: { readonly p50: number; readonly p99: number };
}

/** The topic of a bench device: energy meters (six metrics) in four Science City factories. */
export const benchTopic = (prefix: string, i: number) =>
  `parks/science-city/bench-${i % 4}/energy_meter/${prefix}-${i}/telemetry`;

/** A 6-field energy-meter sample as the telemetry contract wants it (no per-message model cost). */
export function benchPayload(ts: number, seq: number): string {
  const p = 40 + (seq % 100) * 0.37;
  return (
    `{"ts":${ts},"seq":${seq},"metrics":{"active_power_kw":${p.toFixed(2)},` +
    `"energy_kwh":${(1000 + seq * 0.01).toFixed(2)},"voltage_v":${(230 + (seq % 7) * 0.1).toFixed(1)},` +
    `"current_a":${(p * 4.35).toFixed(2)},"power_factor":0.96,"frequency_hz":${(50 + (seq % 5) * 0.01).toFixed(2)}}}`
  );
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What {@link pace} drives: one publish per call, and whether a device has room in its window. */
export interface PacedLoad {
  readonly devices: number;
  /** Offered msg/s in all; 0: flat-out. */
  readonly rate: number;
  readonly durationMs: number;
  hasRoom(device: number): boolean;
  publish(device: number): void;
}

/**
 * Publishes for `durationMs`: at `rate` msg/s in all (paced in 5 ms slices) or flat-out,
 * round-robin over the devices that have room in their in-flight window. Returns how many were
 * published, and when the first and the last were (epoch ms).
 */
export async function pace(
  load: PacedLoad,
): Promise<{ sent: number; first: number; last: number }> {
  let sent = 0;
  let first = 0;
  let last = 0;
  const started = performance.now();
  const end = started + load.durationMs;
  let cursor = 0;
  while (performance.now() < end) {
    const elapsed = performance.now() - started;
    const due = load.rate > 0 ? Math.floor((elapsed / 1000) * load.rate) : Number.POSITIVE_INFINITY;
    let budget = Math.min(due - sent, 20_000);
    let blocked = 0;
    while (budget > 0 && blocked < load.devices) {
      const i = cursor;
      cursor = (cursor + 1) % load.devices;
      if (!load.hasRoom(i)) {
        blocked++;
        continue;
      }
      blocked = 0;
      const now = Date.now();
      load.publish(i);
      sent++;
      if (first === 0) first = now;
      last = now;
      budget--;
    }
    await sleep(load.rate > 0 ? 5 : 1);
  }
  return { sent, first, last };
}

/**
 * Runs the load: `devices` connections publish 6-field QoS-1 telemetry at `rate` msg/s in all
 * (paced in 5 ms slices) or flat-out, for `durationMs`, then wait for the PUBACKs.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const sample = (ms: number) => {
    if (latencies.length < 200_000) latencies.push(ms);
  };
  const clients = Array.from(
    { length: o.devices },
    (_, i) => new BenchClient(`${o.prefix}-${i}`, o.host, o.port),
  );
  for (let i = 0; i < clients.length; i += 50)
    await Promise.all(clients.slice(i, i + 50).map((c) => c.connect(sample)));
  const topics = clients.map((_, i) => benchTopic(o.prefix, i));
  const seq = new Array<number>(o.devices).fill(0);
  const lastTs = new Array<number>(o.devices).fill(0);
  const { sent, first, last } = await pace({
    devices: o.devices,
    rate: o.rate,
    durationMs: o.durationMs,
    hasRoom: (i) => clients[i]!.inflight < o.window,
    publish: (i) => {
      const ts = Math.max(Date.now(), (lastTs[i] ?? 0) + 1);
      lastTs[i] = ts;
      const n = (seq[i] = (seq[i] ?? 0) + 1);
      clients[i]!.publish(topics[i]!, benchPayload(ts, n));
    },
  });
  const drainUntil = performance.now() + (o.drainMs ?? 60_000);
  while (clients.some((c) => c.inflight > 0) && performance.now() < drainUntil) await sleep(20);
  const acked = clients.reduce((n, c) => n + c.acked, 0);
  for (const c of clients) c.close();
  latencies.sort((a, b) => a - b);
  const publishS = Math.max(0.001, (last - first) / 1000);
  return {
    devices: o.devices,
    offeredRate: o.rate,
    sent,
    acked,
    publishS,
    sentPerS: sent / publishS,
    firstPublishMs: first,
    lastPublishMs: last,
    pubackMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
  };
}
