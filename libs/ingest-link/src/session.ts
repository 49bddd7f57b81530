import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { OrderedAcks } from './ordered-acks.js';

const PROTOCOL_VERSION = 4; // MQTT 3.1.1

export interface SessionOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  readonly url: string;
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
  readonly keepaliveS: number;
  /** Filters subscribed at QoS 1 after every CONNACK. */
  readonly subscriptions: readonly string[];
  /** Published by the broker if this session drops without DISCONNECT. */
  readonly will?: { readonly topic: string; readonly payload: Buffer; readonly retain: boolean };
  /** Called again before each connection, so a will can change (e.g. a new Sparkplug bdSeq). */
  readonly willFor?: () => SessionOptions['will'];
}

/** One PUBLISH from the broker; `ack()` once it may be acknowledged (QoS 0: does nothing). */
export interface SessionMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: number;
  readonly ack: () => void;
}

export interface SessionEvents {
  message(message: SessionMessage): void;
  /** Up after a SUBACK, down when the connection is gone (its unacknowledged messages with it). */
  state?(up: boolean): void;
  log?(level: 'log' | 'warn' | 'error', line: string): void;
}

/**
 * An MQTT 3.1.1 client session on `mqtt-packet`, doing only the session: connect (and reconnect
 * with back-off and jitter), subscribe, keep alive, hand out PUBLISHes, and send their PUBACKs
 * when told — in the order they came ([MQTT-4.6.0-2]), however out of order they are stored.
 *
 * Why not MQTT.js: its client handles incoming packets one at a time and sends the PUBACK in the
 * same step, so holding an acknowledgement until a write is done would stall the stream. Here
 * acknowledgements are independent of reading.
 */
export class LinkSession {
  private socket: Socket | undefined;
  private generation = 0;
  private acks: OrderedAcks<number> | undefined;
  private reconnectAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private stopped = false;
  private reading = true;
  private up = false;
  private readonly waiters: (() => void)[] = [];
  /** Packet ids of this client's QoS-1 publishes (1 is the SUBSCRIBE's). */
  private nextMessageId = 2;

  constructor(
    private readonly options: SessionOptions,
    private readonly events: SessionEvents,
  ) {}

  get connected(): boolean {
    return this.up;
  }

  /** Messages of the current connection not acknowledged yet. */
  get unacknowledged(): number {
    return this.acks?.size ?? 0;
  }

  /** Connects; resolves at the first SUBACK (reconnects until there is one). */
  start(): Promise<void> {
    const ready = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.open();
    return ready;
  }

  /**
   * Publishes on the current connection; false when there is none. QoS 1 is sent once and its
   * PUBACK not waited for (a message lost with its connection is not sent again): what needs
   * it, like a retained Sparkplug STATE, is published again on the next connection.
   */
  publish(topic: string, payload: string | Buffer, retain = false, qos: 0 | 1 = 0): boolean {
    const socket = this.socket;
    if (!this.up || !socket || socket.destroyed) return false;
    const messageId = qos === 1 ? this.takeMessageId() : undefined;
    socket.write(
      mqttPacket.generate({
        cmd: 'publish',
        topic,
        payload,
        qos,
        retain,
        dup: false,
        ...(messageId !== undefined ? { messageId } : {}),
      }),
    );
    return true;
  }

  private takeMessageId(): number {
    const id = this.nextMessageId;
    this.nextMessageId = id >= 0xffff ? 2 : id + 1;
    return id;
  }

  /** Reads nothing more (messages already handed out can still be acknowledged). */
  stopReading(): void {
    this.reading = false;
    this.socket?.pause();
  }

  /** DISCONNECT (no will), then close. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.keepaliveTimer);
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
      setTimeout(() => socket.destroy(), 2000).unref();
    });
  }

  private log(level: 'log' | 'warn' | 'error', line: string): void {
    this.events.log?.(level, line);
  }

  private open(): void {
    const url = new URL(this.options.url);
    const tls = url.protocol === 'mqtts:';
    const port = Number(url.port || (tls ? 8883 : 1883));
    const generation = ++this.generation;
    const socket = tls
      ? tlsConnect({ host: url.hostname, port, servername: url.hostname })
      : tcpConnect({ host: url.hostname, port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.options.keepaliveS * 1000);
    // No CONNACK within a keep-alive period (a stalled broker): give up on this socket.
    const connackTimer = setTimeout(() => {
      this.log('warn', `no CONNACK within ${this.options.keepaliveS} s: reconnecting`);
      socket.destroy();
    }, this.options.keepaliveS * 1000);
    connackTimer.unref();
    this.socket = socket;
    const acks = new OrderedAcks<number>((ids) => this.sendAcks(socket, generation, ids));
    this.acks = acks;
    const parser = mqttPacket.parser({ protocolVersion: PROTOCOL_VERSION });
    parser.on('packet', (packet: Packet) => {
      if (packet.cmd === 'connack') clearTimeout(connackTimer);
      this.onPacket(socket, acks, packet);
    });
    parser.on('error', (error: Error) => {
      this.log('error', `protocol error from broker: ${error.message}`);
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      this.lastHeard = Date.now();
      parser.parse(chunk);
    });
    socket.on('error', (error: Error) =>
      this.log('warn', `connection to ${this.options.url}: ${error.message}`),
    );
    socket.on('close', () => {
      clearTimeout(connackTimer);
      this.onClose(generation, acks);
    });
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      this.lastHeard = Date.now();
      const will = this.options.willFor?.() ?? this.options.will;
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: PROTOCOL_VERSION,
          clientId: this.options.clientId,
          clean: true,
          keepalive: this.options.keepaliveS,
          ...(this.options.username
            ? { username: this.options.username, password: Buffer.from(this.options.password) }
            : {}),
          ...(will ? { will: { ...will, qos: 1 as const } } : {}),
        }),
      );
    });
  }

  private onPacket(socket: Socket, acks: OrderedAcks<number>, packet: Packet): void {
    switch (packet.cmd) {
      case 'connack':
        if (packet.returnCode !== 0) {
          this.log('error', `broker refused the connection (CONNACK ${packet.returnCode ?? '?'})`);
          socket.destroy();
          return;
        }
        this.log('log', `connected to ${this.options.url} as ${this.options.clientId}`);
        socket.write(
          mqttPacket.generate({
            cmd: 'subscribe',
            messageId: 1,
            subscriptions: this.options.subscriptions.map((topic) => ({ topic, qos: 1 as const })),
          }),
        );
        this.startKeepalive(socket);
        return;
      case 'suback': {
        const refused = packet.granted.filter((g) => g === 128).length;
        if (refused > 0)
          this.log('error', `broker refused ${refused} of ${packet.granted.length} subscriptions`);
        this.reconnectAttempt = 0;
        this.up = true;
        this.events.state?.(true);
        this.waiters.splice(0).forEach((w) => w());
        return;
      }
      case 'publish':
        if (this.reading) this.onPublish(acks, packet);
        return;
      default:
        return; // pingresp, and the PUBACKs of our own QoS-1 publishes
    }
  }

  private onPublish(acks: OrderedAcks<number>, packet: IPublishPacket): void {
    const payload =
      typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const ack =
      packet.qos > 0 && packet.messageId !== undefined
        ? acks.add(packet.messageId)
        : () => undefined;
    this.events.message({ topic: packet.topic, payload, qos: packet.qos, ack });
  }

  private sendAcks(socket: Socket, generation: number, messageIds: number[]): void {
    // That connection is gone: the broker sends its messages again.
    if (generation !== this.generation || socket.destroyed) return;
    socket.cork();
    for (const messageId of messageIds)
      socket.write(mqttPacket.generate({ cmd: 'puback', messageId }));
    process.nextTick(() => socket.uncork());
  }

  private startKeepalive(socket: Socket): void {
    clearInterval(this.keepaliveTimer);
    const keepaliveMs = this.options.keepaliveS * 1000;
    this.keepaliveTimer = setInterval(() => {
      if (!this.reading)
        this.lastHeard = Date.now(); // reading nothing, PINGRESPs included
      else if (Date.now() - this.lastHeard > keepaliveMs * 1.5) {
        this.log('warn', 'broker silent for 1.5 × keep-alive: reconnecting');
        socket.destroy();
        return;
      }
      socket.write(mqttPacket.generate({ cmd: 'pingreq' }));
    }, keepaliveMs / 2);
    this.keepaliveTimer.unref();
  }

  private onClose(generation: number, acks: OrderedAcks<number>): void {
    if (generation !== this.generation) return;
    clearInterval(this.keepaliveTimer);
    acks.clear(); // late acks of this connection are dropped; the broker resends
    const wasUp = this.up;
    this.up = false;
    if (wasUp) this.events.state?.(false);
    if (this.stopped) return;
    const delay = Math.min(10_000, 250 * 2 ** Math.min(this.reconnectAttempt++, 6));
    const jittered = delay / 2 + Math.random() * (delay / 2);
    this.log('warn', `disconnected from broker; reconnecting in ${Math.round(jittered)} ms`);
    this.reconnectTimer = setTimeout(() => this.open(), jittered);
  }
}
