import type { Aedes } from 'aedes';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IngestDispatcher } from './capture/dispatcher.js';

/** The broker's Prometheus figures, fed by Aedes events and hooks (never per-message logs). */
export class BrokerMetrics {
  readonly registry = new Registry();
  readonly clients = new Gauge({
    name: 'parkpulse_broker_clients_connected',
    help: 'MQTT clients connected now',
    registers: [this.registry],
  });
  readonly connections = new Counter({
    name: 'parkpulse_broker_connections_total',
    help: 'MQTT connections accepted (CONNACK sent)',
    registers: [this.registry],
  });
  readonly disconnections = new Counter({
    name: 'parkpulse_broker_disconnections_total',
    help: 'MQTT clients disconnected',
    registers: [this.registry],
  });
  readonly messagesIn = new Counter({
    name: 'parkpulse_broker_messages_in_total',
    help: 'PUBLISH packets received from clients',
    registers: [this.registry],
  });
  readonly bytesIn = new Counter({
    name: 'parkpulse_broker_bytes_in_total',
    help: 'Payload bytes received from clients',
    registers: [this.registry],
  });
  readonly messagesOut = new Counter({
    name: 'parkpulse_broker_messages_out_total',
    help: 'PUBLISH packets forwarded to subscribers',
    registers: [this.registry],
  });
  readonly clientErrors = new Counter({
    name: 'parkpulse_broker_client_errors_total',
    help: 'Client and connection errors',
    registers: [this.registry],
  });
  readonly keepaliveTimeouts = new Counter({
    name: 'parkpulse_broker_keepalive_timeouts_total',
    help: 'Clients dropped for a missed keep-alive',
    registers: [this.registry],
  });

  readonly connecting = new Gauge({
    name: 'parkpulse_broker_connecting',
    help: 'Connections open whose CONNECT has not arrived whole yet (MAX_CONNECTING budget)',
    registers: [this.registry],
  });
  readonly limitRefusals = new Counter({
    name: 'parkpulse_broker_limit_refusals_total',
    help: 'Connections refused by a limit: max_connections (CONNACK 3), keepalive (CONNACK 6), max_connecting and max_connecting_per_address (closed before CONNECT)',
    labelNames: ['limit'],
    registers: [this.registry],
  });
  readonly limitDisconnects = new Counter({
    name: 'parkpulse_broker_limit_disconnects_total',
    help: 'Clients disconnected by a limit: packet_size, publish_rate (sustained), connect_timeout',
    labelNames: ['limit'],
    registers: [this.registry],
  });
  readonly publishThrottled = new Counter({
    name: 'parkpulse_broker_publish_throttled_total',
    help: 'Times a client went above its publish rate and was left unread (TCP pushes back)',
    registers: [this.registry],
  });
  readonly publishThrottledSeconds = new Counter({
    name: 'parkpulse_broker_publish_throttled_seconds_total',
    help: 'Time clients spent throttled, s (counted when they catch up or leave)',
    registers: [this.registry],
  });
  readonly clientsThrottled = new Gauge({
    name: 'parkpulse_broker_clients_throttled',
    help: 'Clients throttled now',
    registers: [this.registry],
  });
  readonly deliveriesShed = new Counter({
    name: 'parkpulse_broker_deliveries_shed_total',
    help: 'QoS-0 deliveries dropped, by reason (subscriber_backlog: the subscriber had more than SUBSCRIBER_BUFFER_BYTES unsent)',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  readonly captureStored = new Counter({
    name: 'parkpulse_broker_capture_stored_total',
    help: 'Captured device messages the ingestion acknowledged as stored (their PUBACKs released)',
    registers: [this.registry],
  });
  readonly captureHeld = new Gauge({
    name: 'parkpulse_broker_capture_reads_held',
    help: '1 while reading devices is paused because too many captured messages wait to be stored',
    registers: [this.registry],
  });
  readonly captureBatchWait = new Histogram({
    name: 'parkpulse_broker_capture_wait_seconds',
    help: 'Per acknowledged batch: how long its oldest message waited from capture to stored',
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'parkpulse_broker_' });
  }

  /** The dispatcher's state, read when scraped. */
  observeCapture(dispatcher: IngestDispatcher): void {
    new Gauge({
      name: 'parkpulse_broker_capture_pending_messages',
      help: 'Captured device messages waiting to be stored (queued or in a batch in flight)',
      registers: [this.registry],
      collect() {
        this.set(dispatcher.pending.messages);
      },
    });
    new Gauge({
      name: 'parkpulse_broker_capture_pending_bytes',
      help: 'Bytes of the captured device messages waiting to be stored',
      registers: [this.registry],
      collect() {
        this.set(dispatcher.pending.bytes);
      },
    });
    new Gauge({
      name: 'parkpulse_broker_ingest_links',
      help: 'Ingestion instances attached to this broker node',
      registers: [this.registry],
      collect() {
        this.set(dispatcher.attached.length);
      },
    });
  }

  /** Counts what the broker does. Forwarded messages are counted by the forward hook in broker.ts. */
  observe(aedes: Aedes): void {
    this.clients.set(0);
    aedes.on('client', () => this.connections.inc());
    aedes.on('clientReady', () => this.clients.set(aedes.connectedClients));
    aedes.on('clientDisconnect', () => {
      this.disconnections.inc();
      this.clients.set(aedes.connectedClients);
    });
    aedes.on('publish', (packet, client) => {
      if (!client) return; // the broker's own $SYS and will messages
      this.messagesIn.inc();
      this.bytesIn.inc(packet.payload.length);
    });
    aedes.on('clientError', () => this.clientErrors.inc());
    aedes.on('connectionError', () => this.clientErrors.inc());
    aedes.on('keepaliveTimeout', () => this.keepaliveTimeouts.inc());
  }
}
