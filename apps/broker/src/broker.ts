import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
} from 'node:http';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
} from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { BrokerConfig } from './config.js';
import { BrokerMetrics } from './metrics.js';
import { createEmitter } from './emitter.js';
import { indexedMemoryPersistence } from './persistence.js';

export const WS_PATH = '/mqtt';
export const STATS_TOPIC_PREFIX = '$SYS/parkpulse/brokers';
const DRAIN_TIMEOUT_MS = 3000;

export interface RunningBroker {
  readonly aedes: Aedes;
  readonly metrics: BrokerMetrics;
  /** Bound ports (useful when the config asked for 0). */
  readonly ports: { readonly mqtt: number; readonly ws: number; readonly http: number };
  close(): Promise<void>;
}

export interface BrokerStats {
  readonly broker: string;
  readonly ts: number;
  readonly clients: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly uptimeS: number;
}

/**
 * Aedes on TCP and WebSocket, plus an HTTP listener for `/health` and `/metrics`. Persistence is
 * Aedes' in-memory default: a broker restart loses queued QoS-1 messages (see the README).
 */
export async function startBroker(
  config: BrokerConfig,
  log: (line: string) => void = () => undefined,
): Promise<RunningBroker> {
  const metrics = new BrokerMetrics();
  const gate = new StartupGate(config.ingestClientIds, config.startupGateMs, log);
  const aedes = await Aedes.createBroker({
    id: config.id,
    // In memory like Aedes' default, with O(1) PUBACK handling (see persistence.ts).
    persistence: indexedMemoryPersistence(),
    // Aedes' emitter with an O(1) backlog (see emitter.ts).
    mq: createEmitter(),
    connectTimeout: config.connectTimeoutMs,
    authenticate: (client, _username, _password, done) => {
      if (gate.admits(client.id)) return done(null, true);
      const error = Object.assign(new Error('broker starting: waiting for the ingestion session'), {
        returnCode: 3 as const,
      });
      done(error, false);
    },
    // Called once per delivery to a subscriber: the cheapest place to count messages out.
    authorizeForward: (_client, packet) => {
      metrics.messagesOut.inc();
      return packet;
    },
  });
  metrics.observe(aedes);
  aedes.on('subscribe', (_subscriptions, client) => gate.subscribed(client.id));
  aedes.on('clientError', (client, error) =>
    log(`client ${client?.id ?? '?'} error: ${error.message}`),
  );
  aedes.on('connectionError', (_client, error) => log(`connection error: ${error.message}`));

  // Every client connection, for a graceful close that lets accepted messages reach subscribers.
  const connections = new Set<Duplex>();
  const accept = (stream: Duplex, req?: IncomingMessage) => {
    connections.add(stream);
    stream.once('close', () => connections.delete(stream));
    aedes.handle(stream, req);
  };
  const tcp = createTcpServer((socket) => {
    socket.setNoDelay(true);
    accept(coalesceWrites(socket));
  });
  const wsHttp = createHttpServer((_req, res) =>
    res.writeHead(426).end('MQTT over WebSocket: connect to ' + WS_PATH),
  );
  const wss = new WebSocketServer({ server: wsHttp, path: WS_PATH });
  wss.on('connection', (socket, req) => accept(createWebSocketStream(socket), req));

  const http = createHttpServer((req, res) => {
    if (req.url === '/health' || req.url === '/health/live' || req.url === '/health/ready') {
      const ready = !aedes.closed && tcp.listening;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: ready ? 'ok' : 'down',
          broker: config.id,
          clients: aedes.connectedClients,
        }),
      );
      return;
    }
    if (req.url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: Error) => res.writeHead(500).end(error.message),
      );
      return;
    }
    res.writeHead(404).end();
  });

  const ports = {
    mqtt: await listen(tcp, config.mqttPort, config.host),
    ws: await listen(wsHttp, config.wsPort, config.host),
    http: await listen(http, config.httpPort, config.host),
  };

  const started = Date.now();
  const statsTimer =
    config.statsIntervalMs > 0
      ? setInterval(() => void publishStats(), config.statsIntervalMs).unref()
      : undefined;
  async function publishStats(): Promise<void> {
    const stats: BrokerStats = {
      broker: config.id,
      ts: Date.now(),
      clients: aedes.connectedClients,
      messagesIn: (await metrics.messagesIn.get()).values[0]?.value ?? 0,
      messagesOut: (await metrics.messagesOut.get()).values[0]?.value ?? 0,
      uptimeS: Math.round((Date.now() - started) / 1000),
    };
    aedes.publish(
      {
        cmd: 'publish',
        topic: `${STATS_TOPIC_PREFIX}/${config.id}/stats`,
        payload: Buffer.from(JSON.stringify(stats)),
        qos: 0,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
  }

  return {
    aedes,
    metrics,
    ports,
    async close() {
      if (statsTimer) clearInterval(statsTimer);
      gate.open('closing');
      // Stop accepting first; the servers finish closing once their connections are gone.
      const serversClosed = Promise.all([closeServer(tcp), closeServer(wsHttp), closeServer(http)]);
      // Drain: read nothing more (no new PUBLISH is accepted, so no new PUBACK promises delivery),
      // and give what was accepted — already acknowledged to its publisher — the time to leave
      // the subscribers' socket buffers. Closing at once would drop those messages.
      // Aedes reads through 'readable' events, so a stream's own pause() would not stop it:
      // pause its clients instead (not in its typings, but part of its Client).
      for (const client of Object.values(
        (aedes as unknown as { clients: Record<string, { pause(): void }> }).clients,
      )) {
        client.pause();
      }
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      while ([...connections].some((c) => c.writableLength > 0) && Date.now() < deadline)
        await sleep(20);
      await sleep(50);
      for (const client of wss.clients) client.terminate();
      // Disconnects every MQTT client (persistent sessions keep their state in the persistence).
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await serversClosed;
    },
  };
}

/**
 * Holds devices back after a start until an ingestion session has subscribed (see
 * BrokerConfig.startupGateMs), so that nothing is published before anyone can store it.
 */
class StartupGate {
  private isOpen: boolean;
  private readonly ready = new Set<string>();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ingestIds: readonly string[],
    timeoutMs: number,
    private readonly log: (line: string) => void,
  ) {
    this.isOpen = timeoutMs === 0 || ingestIds.length === 0;
    if (!this.isOpen) {
      this.timer = setTimeout(
        () => this.open(`no ingestion subscribed within ${timeoutMs} ms`),
        timeoutMs,
      );
      this.timer.unref();
    }
  }

  admits(clientId: string): boolean {
    return this.isOpen || this.ingestIds.includes(clientId);
  }

  subscribed(clientId: string): void {
    if (!this.isOpen && this.ingestIds.includes(clientId))
      this.open(`ingestion ${clientId} subscribed`);
  }

  open(why: string): void {
    if (this.isOpen) return;
    this.isOpen = true;
    clearTimeout(this.timer);
    this.log(`accepting all clients: ${why}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function listen(server: TcpServer | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: TcpServer | HttpServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Aedes writes every packet on its own (a PUBACK per publish, a PUBLISH per delivery): one
 * syscall each, which was the broker's largest cost under load. Corking the socket on the first
 * write of an event-loop turn and uncorking it at the end of that turn sends all the turn's
 * packets in one writev, without waiting for anything that would not be sent in that turn anyway.
 */
export function coalesceWrites<T extends Duplex>(stream: T): T {
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as T['write'];
  return stream;
}
