import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { AccessControl, Identity } from '@parkpulse/access';
import { LINK_PROTOCOL_VERSION, LINK_TOPIC } from '@parkpulse/ingest-link';
import type { Aedes } from 'aedes';
import mqttPacket, { type IConnectPacket, type Packet } from 'mqtt-packet';
import type { IngestDispatcher, LinkPeer } from './dispatcher.js';

/** How long a new link connection has to send CONNECT. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface LinkServerOptions {
  readonly host: string;
  readonly port: number;
  /** TLS for the link (the broker's certificate) when set. */
  readonly tls?: TlsOptions;
  readonly access: () => AccessControl;
  readonly dispatcher: IngestDispatcher;
  readonly aedes: Aedes;
  readonly log: (line: string) => void;
  /** Counts what the links do (link-server has no metrics of its own). */
  readonly onPublishRefused?: () => void;
}

export interface LinkServer {
  readonly port: number;
  /** Ingestion instances connected and subscribed now. */
  readonly attached: number;
  close(): Promise<void>;
}

/**
 * The broker's side of the ingest link (see @parkpulse/ingest-link): an MQTT 3.1.1 listener for
 * ingestion instances only — service accounts with the `ingestion` role. Each connection that
 * subscribes to the link topic is attached to the dispatcher, which sends it batches; its PUBACKs
 * release the devices' messages. Its own publishes (dead letters, Sparkplug commands) are routed
 * through Aedes like any client's, within its role's rights. A will in its CONNECT is published
 * when the link drops without DISCONNECT (the Sparkplug host's STATE death, for example).
 *
 * Aedes never sees these connections: batches are not messages to route, persist or queue.
 */
export async function startLinkServer(options: LinkServerOptions): Promise<LinkServer> {
  const connections = new Set<LinkConnection>();
  const onSocket = (socket: Socket) => {
    socket.setNoDelay(true);
    const connection = new LinkConnection(socket, options);
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  };
  const server: Server = options.tls
    ? createTlsServer(options.tls, onSocket)
    : createTcpServer(onSocket);
  if (options.tls)
    server.on('tlsClientError', (error: Error) =>
      options.log(`ingest link handshake failed: ${error.message}`),
    );
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () =>
      resolve((server.address() as AddressInfo).port),
    );
  });
  return {
    port,
    get attached() {
      return [...connections].filter((c) => c.attached).length;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of connections) c.end();
      await closed;
    },
  };
}

class LinkConnection implements LinkPeer {
  id = '';
  attached = false;
  private identity: Identity | undefined;
  private will: IConnectPacket['will'] | undefined;
  private graceful = false;
  private lastHeard = Date.now();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private readonly connectTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: Socket,
    private readonly o: LinkServerOptions,
  ) {
    const parser = mqttPacket.parser({ protocolVersion: LINK_PROTOCOL_VERSION });
    parser.on('packet', (packet: Packet) => this.onPacket(packet));
    parser.on('error', (error: Error) => this.fail(`protocol error: ${error.message}`));
    socket.on('data', (chunk: Buffer) => {
      this.lastHeard = Date.now();
      parser.parse(chunk);
    });
    socket.on('error', (error: Error) => this.o.log(`ingest link ${this.name}: ${error.message}`));
    socket.once('close', () => this.onClose());
    this.connectTimer = setTimeout(() => this.fail('no CONNECT in time'), CONNECT_TIMEOUT_MS);
    this.connectTimer.unref();
  }

  private get name(): string {
    return this.id ? JSON.stringify(this.id) : (this.socket.remoteAddress ?? '?');
  }

  send(messageId: number, batch: Buffer): void {
    if (this.socket.destroyed) return; // the dispatcher moves the batch when 'close' detaches us
    mqttPacket.writeToStream(
      {
        cmd: 'publish',
        topic: LINK_TOPIC,
        payload: batch,
        qos: 1,
        messageId,
        retain: false,
        dup: false,
      },
      this.socket,
    );
  }

  evict(): void {
    this.fail('replaced by a newer connection with the same client id');
  }

  end(): void {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private write(packet: Packet): void {
    if (!this.socket.destroyed) this.socket.write(mqttPacket.generate(packet));
  }

  private fail(why: string): void {
    this.o.log(`ingest link ${this.name} closed: ${why}`);
    this.socket.destroy();
  }

  private onPacket(packet: Packet): void {
    if (!this.identity && packet.cmd !== 'connect')
      return this.fail(`${packet.cmd} before CONNECT`);
    switch (packet.cmd) {
      case 'connect':
        return void this.onConnect(packet);
      case 'subscribe': {
        const granted = packet.subscriptions.map((s) => (s.topic === LINK_TOPIC ? 1 : 0x80));
        this.write({ cmd: 'suback', messageId: packet.messageId, granted });
        if (!this.attached && granted.includes(1)) {
          this.attached = true;
          this.o.dispatcher.attach(this);
        }
        return;
      }
      case 'puback':
        if (packet.messageId !== undefined) this.o.dispatcher.acked(this, packet.messageId);
        return;
      case 'publish': {
        if (packet.qos === 1) this.write({ cmd: 'puback', messageId: packet.messageId });
        if (!this.o.access().mayPublish(this.identity!, packet.topic)) {
          this.o.onPublishRefused?.();
          this.o.log(
            `ingest link ${this.name}: publish on ${JSON.stringify(packet.topic)} refused`,
          );
          return;
        }
        this.o.aedes.publish(
          {
            cmd: 'publish',
            topic: packet.topic,
            payload: packet.payload,
            qos: packet.qos,
            retain: packet.retain,
            dup: false,
          },
          () => undefined,
        );
        return;
      }
      case 'pingreq':
        return this.write({ cmd: 'pingresp' });
      case 'disconnect':
        this.graceful = true;
        this.socket.end();
        return;
      default:
        return this.fail(`unexpected ${packet.cmd}`);
    }
  }

  private async onConnect(packet: IConnectPacket): Promise<void> {
    clearTimeout(this.connectTimer);
    if (this.identity) return this.fail('second CONNECT');
    const refuse = (returnCode: number, why: string) => {
      this.write({ cmd: 'connack', returnCode, sessionPresent: false });
      this.o.log(
        `ingest link ${JSON.stringify(packet.clientId)} refused: ${why} [CONNACK ${returnCode}]`,
      );
      this.socket.end();
    };
    if (packet.protocolVersion !== LINK_PROTOCOL_VERSION)
      return refuse(
        1,
        `MQTT protocol level ${packet.protocolVersion ?? '?'}; the link speaks 4 (3.1.1)`,
      );
    const access = this.o.access();
    const result = await access.authenticate(packet.clientId, packet.username, packet.password);
    if (this.socket.destroyed) return;
    if (!result.ok) return refuse(result.refusal.returnCode, result.refusal.message);
    const identity = result.identity;
    if (identity.kind !== 'service' || identity.role !== 'ingestion')
      return refuse(5, 'only service accounts with the ingestion role may attach');
    if (packet.will && !access.mayPublish(identity, packet.will.topic))
      return refuse(5, `will on ${JSON.stringify(packet.will.topic)} not allowed`);
    this.identity = identity;
    this.id = packet.clientId;
    this.will = packet.will;
    this.write({ cmd: 'connack', returnCode: 0, sessionPresent: false });
    const keepaliveS = packet.keepalive ?? 0;
    if (keepaliveS > 0) {
      this.keepaliveTimer = setInterval(() => {
        if (Date.now() - this.lastHeard > keepaliveS * 1500) this.fail('keep-alive expired');
      }, keepaliveS * 500);
      this.keepaliveTimer.unref();
    }
    this.o.log(`ingest link ${this.name} connected from ${this.socket.remoteAddress ?? '?'}`);
  }

  private onClose(): void {
    clearTimeout(this.connectTimer);
    clearInterval(this.keepaliveTimer);
    if (this.attached) this.o.dispatcher.detach(this);
    this.attached = false;
    const will = this.will;
    if (will && !this.graceful) {
      this.o.aedes.publish(
        {
          cmd: 'publish',
          topic: will.topic,
          payload: typeof will.payload === 'string' ? Buffer.from(will.payload) : will.payload,
          qos: will.qos ?? 0,
          retain: will.retain ?? false,
          dup: false,
        },
        () => undefined,
      );
    }
    if (this.identity)
      this.o.log(`ingest link ${this.name} ${this.graceful ? 'disconnected' : 'lost'}`);
  }
}
