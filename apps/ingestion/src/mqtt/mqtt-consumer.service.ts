import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import { OrderedAcks } from './ordered-acks.js';

/** One message from the broker. `ack()` may be called once the message is safely stored. */
export interface InboundMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** True for a retained message the broker replays because we (re)subscribed. */
  readonly retain: boolean;
  readonly receivedAt: number;
  ack(): void;
}

export type MessageHandler = (message: InboundMessage) => void;

const PROTOCOL_VERSION = 4; // MQTT 3.1.1

/**
 * The ingestion's MQTT session: a persistent session (`clean: false`, stable client id)
 * subscribed at QoS 1, whose PUBACKs are sent only when the pipeline says a message is stored.
 *
 * Why not MQTT.js: its client handles incoming packets one at a time and sends the PUBACK in the
 * same step, so holding an ack until a batch is written would stall the whole stream. Here the
 * wire is `mqtt-packet` (the parser/generator MQTT.js and Aedes are built on) and acks are
 * independent of reading: thousands of messages can wait for one batch write.
 */
@Injectable()
export class MqttConsumer implements OnApplicationShutdown {
  private readonly logger = new Logger('MqttConsumer');
  private socket: Socket | undefined;
  private generation = 0;
  private acks: OrderedAcks<number> | undefined;
  private handler: MessageHandler = () => undefined;
  private reconnectAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private stopped = false;
  private paused = false;
  /**
   * Publishes that arrived after reading was paused: the rest of the chunk being parsed when the
   * limit was reached (pausing the socket stops the next read, not the current one). Handed on,
   * in order, before reading resumes, so the pending limit holds exactly.
   */
  private held: { acks: OrderedAcks<number>; packet: IPublishPacket }[] = [];
  private consuming = true;
  private connectedNow = false;
  private connectWaiters: (() => void)[] = [];
  private readonly connackTimers = new WeakMap<Socket, NodeJS.Timeout>();
  /** When we last published (dead letters), and how often in a row the broker hung up right after. */
  private lastPublishAt = 0;
  private closesAfterPublish = 0;
  private publishingOff = false;

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly metrics: IngestMetrics,
  ) {}

  get connected(): boolean {
    return this.connectedNow;
  }

  /** Unacknowledged messages of the current session. */
  get pending(): number {
    return this.acks?.size ?? 0;
  }

  /** Starts the session; resolves on the first successful CONNACK + SUBACK. */
  start(handler: MessageHandler): Promise<void> {
    this.handler = handler;
    const ready = new Promise<void>((resolve) => this.connectWaiters.push(resolve));
    this.open();
    return ready;
  }

  /**
   * Publishes at QoS 0 on the current session (the dead letters); false when there is none.
   * MQTT 3.1.1 has no negative PUBACK: a broker that refuses a publish closes the connection.
   * When that happens right after our publishes three times in a row, publishing stops (until
   * a restart) rather than costing a reconnect per dead letter.
   */
  publish(topic: string, payload: string): boolean {
    const socket = this.socket;
    if (!this.connectedNow || !socket || socket.destroyed || this.publishingOff) return false;
    socket.write(
      mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }),
    );
    this.lastPublishAt = Date.now();
    return true;
  }

  /** Stops handing out messages; those already received can still be acknowledged. */
  stopConsuming(): void {
    this.consuming = false;
    this.socket?.pause();
  }

  /** Sends DISCONNECT (the session and its unacked messages stay with the broker) and closes. */
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

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  private open(): void {
    const url = new URL(this.config.mqtt.url);
    const port = Number(url.port || (url.protocol === 'mqtts:' ? 8883 : 1883));
    const generation = ++this.generation;
    const socket =
      url.protocol === 'mqtts:'
        ? tlsConnect({ host: url.hostname, port, servername: url.hostname })
        : tcpConnect({ host: url.hostname, port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.config.mqtt.keepaliveS * 1000);
    // No CONNACK within a keep-alive period (a stalled broker, a load balancer with no backend):
    // give up on this socket and reconnect.
    const connackTimer = setTimeout(() => {
      this.logger.warn(`no CONNACK within ${this.config.mqtt.keepaliveS} s: reconnecting`);
      socket.destroy();
    }, this.config.mqtt.keepaliveS * 1000);
    connackTimer.unref();
    socket.once('close', () => clearTimeout(connackTimer));
    this.connackTimers.set(socket, connackTimer);
    this.socket = socket;
    const parser = mqttPacket.parser({ protocolVersion: PROTOCOL_VERSION });
    const acks = new OrderedAcks<number>((messageIds) =>
      this.sendAcks(socket, generation, messageIds),
    );
    this.acks = acks;

    parser.on('packet', (packet: Packet) => this.onPacket(socket, generation, acks, packet));
    parser.on('error', (error: Error) => {
      this.logger.error(`protocol error from broker: ${error.message}`);
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      this.lastHeard = Date.now();
      parser.parse(chunk);
    });
    socket.on('error', (error: Error) =>
      this.logger.warn(`connection to ${this.config.mqtt.url}: ${error.message}`),
    );
    socket.on('close', () => this.onClose(generation, acks));
    const connectEvent = url.protocol === 'mqtts:' ? 'secureConnect' : 'connect';
    socket.once(connectEvent, () => {
      this.lastHeard = Date.now();
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: PROTOCOL_VERSION,
          clientId: this.config.mqtt.clientId,
          clean: false, // the broker keeps our subscriptions and unacked messages while we are away
          keepalive: this.config.mqtt.keepaliveS,
          ...(this.config.mqtt.username
            ? {
                username: this.config.mqtt.username,
                password: Buffer.from(this.config.mqtt.password),
              }
            : {}),
        }),
      );
    });
  }

  private onPacket(
    socket: Socket,
    generation: number,
    acks: OrderedAcks<number>,
    packet: Packet,
  ): void {
    switch (packet.cmd) {
      case 'connack': {
        clearTimeout(this.connackTimers.get(socket));
        if (packet.returnCode !== 0) {
          this.logger.error(`broker refused the connection (CONNACK ${packet.returnCode ?? '?'})`);
          socket.destroy();
          return;
        }
        this.logger.log(
          `connected to ${this.config.mqtt.url} as ${this.config.mqtt.clientId} (session present: ${String(packet.sessionPresent)})`,
        );
        socket.write(
          mqttPacket.generate({
            cmd: 'subscribe',
            messageId: 1,
            subscriptions: this.config.mqtt.topics.map((topic) => ({ topic, qos: 1 as const })),
          }),
        );
        this.startKeepalive(socket);
        return;
      }
      case 'suback': {
        const refused = packet.granted.filter((g) => g === 128).length;
        if (refused > 0)
          this.logger.error(`broker refused ${refused} of ${packet.granted.length} subscriptions`);
        this.reconnectAttempt = 0;
        this.connectedNow = true;
        this.metrics.mqttConnected.set(1);
        this.connectWaiters.splice(0).forEach((w) => w());
        return;
      }
      case 'publish':
        this.onPublish(acks, packet);
        return;
      default:
        return; // pingresp, and nothing else a broker sends to a QoS-1 subscriber
    }
  }

  private onPublish(acks: OrderedAcks<number>, packet: IPublishPacket): void {
    if (!this.consuming) return; // shutting down: the broker redelivers it to the next session
    if (this.paused) {
      this.held.push({ acks, packet });
      return;
    }
    this.deliver(acks, packet);
  }

  private deliver(acks: OrderedAcks<number>, packet: IPublishPacket): void {
    const payload =
      typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    let ack: () => void;
    if (packet.qos === 1 && packet.messageId !== undefined) {
      ack = acks.add(packet.messageId);
      if (!this.paused && this.overloaded(acks.size, 1)) {
        // Back-pressure: stop reading; the broker queues for us until writes catch up.
        this.paused = true;
        this.socket?.pause();
      }
    } else {
      // QoS 0 needs no ack; QoS 2 is never granted (we subscribe at QoS 1, [MQTT-3.8.4-6]).
      ack = () => undefined;
    }
    this.metrics.setPending(acks.size);
    this.handler({
      topic: packet.topic,
      payload,
      retain: packet.retain,
      receivedAt: Date.now(),
      ack,
    });
  }

  private sendAcks(socket: Socket, generation: number, messageIds: number[]): void {
    if (generation !== this.generation || socket.destroyed) return; // that session is gone; the broker redelivers
    socket.cork();
    for (const messageId of messageIds)
      socket.write(mqttPacket.generate({ cmd: 'puback', messageId }));
    process.nextTick(() => socket.uncork());
    this.metrics.acked(messageIds.length);
    const pending = this.acks?.size ?? 0;
    this.metrics.setPending(pending);
    if (this.paused && !this.overloaded(pending, 0.5) && this.consuming) {
      this.paused = false;
      this.lastHeard = Date.now();
      // what was held goes first; it may fill the window again, and then reading stays paused
      while (this.held.length > 0 && !this.paused) {
        const next = this.held.shift()!;
        this.deliver(next.acks, next.packet);
      }
      if (!this.paused) socket.resume();
    }
  }

  /**
   * Too much waiting for storage: unacknowledged messages, or points queued for InfluxDB (a
   * message may carry 1,000 samples, so counting messages alone does not bound memory).
   * `share` < 1 is the low-water mark for resuming.
   */
  private overloaded(pending: number, share: number): boolean {
    return (
      pending >= this.config.mqtt.maxPending * share ||
      this.metrics.queuedPointsNow >= this.config.mqtt.maxQueuedPoints * share
    );
  }

  private startKeepalive(socket: Socket): void {
    clearInterval(this.keepaliveTimer);
    const periodMs = (this.config.mqtt.keepaliveS * 1000) / 2;
    this.keepaliveTimer = setInterval(() => {
      // While paused we read nothing, PINGRESPs included: silence then says nothing about the
      // broker (TCP keep-alive watches the peer meanwhile).
      if (this.paused || !this.consuming) {
        this.lastHeard = Date.now();
      } else if (Date.now() - this.lastHeard > this.config.mqtt.keepaliveS * 1500) {
        this.logger.warn('broker silent for 1.5 × keep-alive: reconnecting');
        socket.destroy();
        return;
      }
      socket.write(mqttPacket.generate({ cmd: 'pingreq' }));
    }, periodMs);
    this.keepaliveTimer.unref();
  }

  private noticeRefusedPublishes(): void {
    if (Date.now() - this.lastPublishAt > 1000) {
      this.closesAfterPublish = 0;
      return;
    }
    if (++this.closesAfterPublish < 3 || this.publishingOff) return;
    this.publishingOff = true;
    this.logger.error(
      'the broker closed the connection right after our own publishes 3 times in a row: it refuses them. ' +
        'Dead letters are no longer published on MQTT (until restart); they are still stored. ' +
        `Check that ${this.config.mqtt.username || this.config.mqtt.clientId} may publish to $parkpulse/dead-letters/#`,
    );
  }

  private onClose(generation: number, acks: OrderedAcks<number>): void {
    if (generation !== this.generation) return;
    clearInterval(this.keepaliveTimer);
    // Unacked messages of this session will be redelivered by the broker; their late acks are dropped.
    acks.clear();
    this.paused = false;
    this.held = []; // the broker redelivers them to the next session
    this.connectedNow = false;
    this.metrics.mqttConnected.set(0);
    this.metrics.setPending(0);
    if (this.stopped) return;
    this.noticeRefusedPublishes();
    const delay = Math.min(10_000, 250 * 2 ** Math.min(this.reconnectAttempt++, 6));
    const jittered = delay / 2 + Math.random() * (delay / 2);
    this.logger.warn(`disconnected from broker; reconnecting in ${Math.round(jittered)} ms`);
    this.reconnectTimer = setTimeout(() => this.open(), jittered);
  }
}
