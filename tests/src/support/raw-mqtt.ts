import { connect as tcpConnect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/**
 * A lean MQTT 3.1.1 client over a raw TCP socket (mqtt-packet), for the tests that need hundreds
 * of connections, exact control of what is on the wire (a paused reader, a packet that lies about
 * its length) or to see exactly what the broker answers (CONNACK codes, a closed connection).
 */
export class RawMqttClient {
  readonly socket: Socket;
  /** PUBLISH packets received (subscriptions). */
  received = 0;
  /** PUBACKs received. */
  acked = 0;
  onPublish: ((topic: string, payload: Buffer) => void) | undefined;
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
  isClosed = false;
  private readonly acks = new Map<number, { resolve(): void; reject(e: Error): void }>();
  private subacks = new Map<number, (granted: number[]) => void>();
  private nextId = 1;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        for (const waiter of this.acks.values()) waiter.reject(new Error('connection closed'));
        this.acks.clear();
        resolve();
      }),
    );
  }

  /**
   * Connects and resolves with the client once CONNACK 0 arrives; rejects with the CONNACK return
   * code (`code`) or when the broker closes the connection first.
   */
  static connect(options: {
    readonly port: number;
    readonly clientId: string;
    readonly username?: string;
    readonly password?: string;
    readonly keepalive?: number;
    /** The local address to connect from (another loopback address, e.g. 127.0.0.2). */
    readonly localAddress?: string;
  }): Promise<RawMqttClient> {
    const socket = tcpConnect({
      host: '127.0.0.1',
      port: options.port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    socket.setNoDelay(true);
    const client = new RawMqttClient(socket);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', () => undefined); // 'close' follows
    return new Promise((resolve, reject) => {
      parser.on('packet', (packet: Packet) => {
        if (packet.cmd === 'connack') {
          if (packet.returnCode === 0) resolve(client);
          else
            reject(
              Object.assign(new Error(`CONNACK ${packet.returnCode}`), {
                code: packet.returnCode,
              }),
            );
        } else client.onPacket(packet);
      });
      void client.closed.then(() => reject(new Error('connection closed before CONNACK')));
      socket.once('connect', () =>
        socket.write(
          mqttPacket.generate({
            cmd: 'connect',
            protocolId: 'MQTT',
            protocolVersion: 4,
            clean: true,
            clientId: options.clientId,
            keepalive: options.keepalive ?? 60,
            ...(options.username !== undefined ? { username: options.username } : {}),
            ...(options.password !== undefined ? { password: Buffer.from(options.password) } : {}),
          }),
        ),
      );
    });
  }

  private onPacket(packet: Packet): void {
    if (packet.cmd === 'publish') {
      this.received++;
      this.onPublish?.(packet.topic, packet.payload as Buffer);
      if (packet.qos > 0 && packet.messageId !== undefined)
        this.socket.write(mqttPacket.generate({ cmd: 'puback', messageId: packet.messageId }));
    } else if (packet.cmd === 'puback' && packet.messageId !== undefined) {
      this.acked++;
      const waiter = this.acks.get(packet.messageId);
      this.acks.delete(packet.messageId);
      waiter?.resolve();
    } else if (packet.cmd === 'suback' && packet.messageId !== undefined) {
      this.subacks.get(packet.messageId)?.(packet.granted as number[]);
      this.subacks.delete(packet.messageId);
    }
  }

  /** Subscribes; resolves with the granted QoS levels (128 = refused). */
  subscribe(topic: string, qos: 0 | 1): Promise<number[]> {
    const messageId = this.id();
    const granted = new Promise<number[]>((resolve) => this.subacks.set(messageId, resolve));
    this.socket.write(
      mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] }),
    );
    return granted;
  }

  /** QoS 1: resolves on PUBACK, rejects if the connection closes first. */
  publish1(topic: string, payload: string | Buffer): Promise<void> {
    const messageId = this.id();
    const acked = new Promise<void>((resolve, reject) =>
      this.acks.set(messageId, { resolve, reject }),
    );
    this.socket.write(
      mqttPacket.generate({
        cmd: 'publish',
        topic,
        payload,
        qos: 1,
        messageId,
        retain: false,
        dup: false,
      }),
    );
    return acked;
  }

  /** Ends the session with DISCONNECT (whatever was written before it is still delivered). */
  end(): Promise<void> {
    if (!this.isClosed) this.socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private id(): number {
    const id = this.nextId;
    this.nextId = id === 65535 ? 1 : id + 1;
    return id;
  }
}

/** A QoS-0 PUBLISH as bytes (to be written many times over). */
export function qos0Publish(topic: string, payload: string | Buffer): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false });
}

/** The broker's HTTP base (for /metrics) from its health URL. */
export function httpBase(healthUrl: string): string {
  return healthUrl.replace(/\/health$/, '');
}

/** Every sample of one Prometheus metric family, by label set (`{reason="x"}`, or '' for none). */
export async function metricSamples(base: string, name: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{'))
      continue;
    const space = line.lastIndexOf(' ');
    out[line.slice(name.length, space)] = Number(line.slice(space + 1));
  }
  return out;
}

/** The sum of a metric family's samples (0 when absent). */
export async function metricSum(base: string, name: string): Promise<number> {
  return Object.values(await metricSamples(base, name)).reduce((a, b) => a + b, 0);
}

/** VmRSS of a process, bytes (0 when it is gone). */
export async function rssBytes(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
