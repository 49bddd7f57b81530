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
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { loadAccessControl, type AccessControl } from '@parkpulse/access';
import type { EventEmitter } from 'node:events';
import { Aedes, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { BrokerAuth } from './auth.js';
import type { BrokerConfig, TlsConfig } from './config.js';
import { BrokerMetrics } from './metrics.js';
import { BrokerLimits, DEFAULT_LIMITS, type LimitStats } from './limits.js';
import { MEMORY_BACKENDS, createBackends, instanceId } from './backends.js';
import { willsAfterPublishes } from './will-order.js';
import { HeldClients, capturingAuthorizePublish } from './capture/capture.js';
import { IngestDispatcher } from './capture/dispatcher.js';
import { startLinkServer } from './capture/link-server.js';
import { publishCommandAcks } from './command-acks.js';
import { publishConnectionNotices } from './connection-notices.js';

export const WS_PATH = '/mqtt';
export const STATS_TOPIC_PREFIX = '$SYS/parkpulse/brokers';
const DRAIN_TIMEOUT_MS = 3000;

export interface RunningBroker {
  readonly aedes: Aedes;
  readonly metrics: BrokerMetrics;
  /** Bound ports (useful when the config asked for 0); absent when that listener is off. */
  readonly ports: {
    readonly mqtt?: number;
    readonly ws?: number;
    readonly mqtts?: number;
    readonly wss?: number;
    readonly http: number;
    /** The ingest link (ingestion instances attach here). */
    readonly link: number;
  };
  /** Captured messages waiting to be stored, and the ingest links attached. */
  readonly dispatcher: IngestDispatcher;
  /**
   * Replaces the registry (e.g. after SIGHUP); clients whose entry no longer stands are
   * disconnected (returns how many).
   */
  reloadRegistry(access: AccessControl): number;
  close(): Promise<void>;
}

export interface BrokerStats extends LimitStats {
  readonly broker: string;
  readonly ts: number;
  readonly clients: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly uptimeS: number;
  /** CONNECTs, PUBLISHes and SUBSCRIBEs refused by authentication and the ACL (totals). */
  readonly authRefused: number;
  readonly publishRefused: number;
  readonly subscribeRefused: number;
}

/**
 * Aedes on TCP and WebSocket, plus an HTTP listener for `/health` and `/metrics`. Persistence in
 * memory (a broker restart loses queued QoS-1 messages) or Redis (it does not): see backends.ts.
 */
export async function startBroker(
  config: BrokerConfig,
  log: (line: string) => void = () => undefined,
  access: AccessControl = loadAccessControl(config.registryFile),
): Promise<RunningBroker> {
  const metrics = new BrokerMetrics();
  // Packet size, connections, publish rate, keep-alive, slow subscribers: see limits.ts.
  const limits = new BrokerLimits(config.limits ?? DEFAULT_LIMITS, metrics, log);
  const auth = new BrokerAuth(access, metrics.registry, log);
  const heldClients = new HeldClients(log);
  // Device publishes are captured before their PUBACK and carried to the ingestion in batches;
  // the PUBACK leaves once they are stored (capture/).
  const dispatcher = new IngestDispatcher(config.ingestLink.dispatcher, {
    log,
    backPressure: (on) => {
      metrics.captureHeld.set(on ? 1 : 0);
      limits.holdReads(on);
    },
    stored: (messages, oldestWaitMs) => {
      metrics.captureStored.inc(messages);
      metrics.captureBatchWait.observe(oldestWaitMs / 1000);
    },
  });
  // Memory (O(1) PUBACKs and backlog: persistence.ts, emitter.ts) or Redis: see backends.ts.
  const backends = await createBackends(config.backends ?? MEMORY_BACKENDS, log);
  // A last will never overtakes its client's acknowledged publishes: see will-order.ts.
  const aedes = await Aedes.createBroker(
    willsAfterPublishes({
      id: instanceId(config.id),
      persistence: backends.persistence,
      mq: backends.mq,
      connectTimeout: config.connectTimeoutMs,
      keepaliveLimit: limits.config.maxKeepaliveS,
      authenticate: (client, username, password, done) =>
        auth.authenticate(
          client,
          username,
          password,
          done,
          certificateIdentity(client.req?.socket ?? client.conn),
        ),
      authorizePublish: capturingAuthorizePublish(
        auth.authorizePublish,
        (client) => auth.identityOf(client),
        dispatcher,
        heldClients,
      ),
      authorizeSubscribe: auth.authorizeSubscribe,
      // Called once per delivery to a subscriber: drops QoS-0 deliveries to a subscriber too far
      // behind (limits.ts), and the cheapest place to count messages out.
      authorizeForward: (client, packet) => {
        // Behind the subscription rules: a delivery outside the client's rights never leaves.
        if (!auth.mayReceive(client, packet.topic)) return null;
        if (!limits.forward(client, packet)) return null;
        metrics.messagesOut.inc();
        return packet;
      },
    }),
  ).catch(async (error: unknown) => {
    await backends.close();
    throw error;
  });
  metrics.observe(aedes);
  metrics.observeCapture(dispatcher);
  limits.observe(aedes);
  publishCommandAcks(aedes);
  // $parkpulse/connections/{clientId}: what each device asked for in its CONNECT (retained).
  publishConnectionNotices(aedes, (client) => auth.identityOf(client)?.kind === 'device');
  // Aedes emits 'error' for failures of its own (storing a subscription, publishing stored
  // wills); without a listener Node would end the process.
  (aedes as unknown as EventEmitter).on('error', (error: Error) => {
    metrics.clientErrors.inc();
    log(`broker error: ${error.message}`);
  });
  aedes.on('clientError', (client, error) =>
    log(`client ${client?.id ?? '?'} error: ${error.message}`),
  );
  aedes.on('connectionError', (_client, error) => log(`connection error: ${error.message}`));

  // Every client connection, for a graceful close that lets accepted messages reach subscribers.
  const connections = new Set<Duplex>();
  const accept = (stream: Duplex, req?: IncomingMessage) =>
    limits.admit(
      stream,
      (admitted) => {
        connections.add(admitted);
        admitted.once('close', () => connections.delete(admitted));
        aedes.handle(admitted, req);
      },
      req?.socket.remoteAddress,
    );
  const tcp = createTcpServer((socket) => {
    socket.setNoDelay(true);
    accept(coalesceWrites(socket));
  });
  const upgradeOnly = (_req: IncomingMessage, res: import('node:http').ServerResponse) =>
    res.writeHead(426).end('MQTT over WebSocket: connect to ' + WS_PATH);
  const wsHttp = createHttpServer(upgradeOnly);
  // ws buffers a whole frame before the MQTT parser sees it: cap it at the packet limit.
  const maxPayload = limits.config.maxPacketBytes > 0 ? limits.config.maxPacketBytes : undefined;
  const webSockets = [new WebSocketServer({ server: wsHttp, path: WS_PATH, maxPayload })];
  const tls = config.tls ? tlsOptions(config.tls) : undefined;
  const mqtts = tls
    ? createTlsServer(tls, (socket) => {
        socket.setNoDelay(true);
        accept(coalesceWrites(socket));
      })
    : undefined;
  const wssHttps = tls ? createHttpsServer(tls, upgradeOnly) : undefined;
  if (wssHttps)
    webSockets.push(new WebSocketServer({ server: wssHttps, path: WS_PATH, maxPayload }));
  for (const wss of webSockets)
    wss.on('connection', (socket, req) => accept(createWebSocketStream(socket), req));
  // A TLS handshake that fails (plain text on the TLS port, a missing or untrusted client
  // certificate) never becomes an MQTT connection: log it, once per connection.
  mqtts?.on('tlsClientError', (error) => log(`mqtts handshake failed: ${error.message}`));
  wssHttps?.on('tlsClientError', (error) => log(`wss handshake failed: ${error.message}`));

  const http = createHttpServer((req, res) => {
    if (req.url === '/health' || req.url === '/health/live' || req.url === '/health/ready') {
      const ready =
        !aedes.closed && (tcp.listening || (mqtts?.listening ?? false)) && backends.healthy();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: ready ? 'ok' : 'down',
          broker: config.id,
          clients: aedes.connectedClients,
          ingestLinks: dispatcher.attached.length,
          waitingToBeStored: dispatcher.pending.messages,
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
    ...(config.plaintext
      ? {
          mqtt: await listen(tcp, config.mqttPort, config.host),
          ws: await listen(wsHttp, config.wsPort, config.host),
        }
      : {}),
    ...(mqtts && wssHttps && config.tls
      ? {
          mqtts: await listen(mqtts, config.tls.mqttsPort, config.host),
          wss: await listen(wssHttps, config.tls.wssPort, config.host),
        }
      : {}),
    http: await listen(http, config.httpPort, config.host),
  };
  const linkServer = await startLinkServer({
    host: config.ingestLink.host,
    port: config.ingestLink.port,
    // TLS-only brokers speak TLS on the link too.
    ...(tls && !config.plaintext ? { tls } : {}),
    access: () => currentAccess,
    dispatcher,
    aedes,
    log,
    onPublishRefused: () => auth.publishRefused.inc(),
  });
  let currentAccess = access;
  const allPorts = { ...ports, link: linkServer.port };

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
      ...limits.stats(),
      ...(await auth.stats()),
    };
    const topic = `${STATS_TOPIC_PREFIX}/${config.id}/stats`;
    const payload = Buffer.from(JSON.stringify(stats));
    aedes.publish(
      { cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false },
      () => undefined,
    );
    // The ingestion writes them as platform_broker: they take the devices' way to storage.
    dispatcher.capture(
      { topic, payload, qos: 0, retain: false, will: false, clientId: '', receivedAt: stats.ts },
      () => undefined,
    );
  }

  return {
    aedes,
    metrics,
    ports: allPorts,
    dispatcher,
    reloadRegistry(next) {
      currentAccess = next;
      const clients = Object.values(
        (aedes as unknown as { clients: Record<string, Client> }).clients,
      );
      return auth.reload(next, clients);
    },
    async close() {
      if (statsTimer) clearInterval(statsTimer);
      limits.close();
      // Stop accepting first; the servers finish closing once their connections are gone.
      const serversClosed = Promise.all(
        [tcp, wsHttp, mqtts, wssHttps, http].map((s) => (s ? closeServer(s) : Promise.resolve())),
      );
      // Stop taking: read nothing more from any client. Flush: what was captured gets stored
      // and acknowledged to its devices while the ingestion links are still up (what is not by
      // the deadline stays unacknowledged: its devices resend it). Then let the PUBACKs and the
      // released messages leave the sockets' buffers; closing at once would drop them.
      limits.holdReads(true);
      const held = await dispatcher.drain(DRAIN_TIMEOUT_MS);
      if (held > 0)
        log(`closing with ${held} captured message(s) not stored: their devices resend them`);
      await sleep(20);
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      while ([...connections].some((c) => c.writableLength > 0) && Date.now() < deadline)
        await sleep(20);
      await sleep(50);
      for (const wss of webSockets) for (const client of wss.clients) client.terminate();
      // Disconnects every MQTT client (persistent sessions keep their state in the persistence).
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await linkServer.close();
      await backends.close();
      await serversClosed;
    },
  };
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
  if (!server.listening) return Promise.resolve();
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Options of the mqtts and wss listeners (files read once, at start-up). */
function tlsOptions(tls: TlsConfig) {
  const wantCerts = tls.clientCerts !== 'none';
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
    requestCert: wantCerts,
    // `optional`: the handshake succeeds without a certificate (the password is then needed);
    // an invalid certificate is simply not trusted (see certificateIdentity).
    rejectUnauthorized: tls.clientCerts === 'required',
    minVersion: 'TLSv1.2' as const,
  };
}

/**
 * The common name of a verified client certificate, if the connection is TLS and presented one
 * that the configured CA signed (the TCP socket of mqtts, the HTTP request's socket of wss).
 */
export function certificateIdentity(conn: unknown): string | undefined {
  const socket = conn as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  // A socket closed meanwhile still says `authorized` but has no certificate any more.
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return typeof cn === 'string' && cn.length > 0 ? cn : undefined;
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
