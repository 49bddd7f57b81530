import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  BatchFormatError,
  LINK_TOPIC,
  LinkSession,
  decodeBatch,
  type SessionMessage,
  type SessionOptions,
} from '@parkpulse/ingest-link';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';

/** One device message the broker captured. `ack()` once it is safely stored. */
export interface InboundMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** The device's retain flag (the broker sends no retained replays over the link). */
  readonly retain: boolean;
  /** A last will the broker published for its client. */
  readonly will: boolean;
  /** The publishing client's id ('' for a will of a client long gone). */
  readonly clientId: string;
  /** When the broker received it (epoch ms): timestamp windows are judged against this. */
  readonly receivedAt: number;
  ack(): void;
}

export type MessageHandler = (message: InboundMessage) => void;

/** A last will for the link's CONNECT (the broker publishes it if the link drops). */
export type LinkWill = NonNullable<SessionOptions['will']>;

/**
 * The ingestion's end of the broker's ingest link (@parkpulse/ingest-link): a {@link LinkSession}
 * subscribed to the link topic, whose batches are split into their device messages; a batch is
 * acknowledged — which releases its devices' PUBACKs — once each of its messages has been.
 *
 * Flow control is the link's window: the broker sends at most INGEST_LINK_WINDOW batches
 * unacknowledged, so what waits here for storage is bounded by what was acknowledged, and a
 * slow or failing InfluxDB holds the devices back at the broker, not in this process.
 */
@Injectable()
export class MqttConsumer implements OnApplicationShutdown {
  private readonly logger = new Logger('IngestLink');
  private readonly session: LinkSession;
  private handler: MessageHandler = () => undefined;
  private pendingMessages = 0;
  /** Counts link connections: acknowledgements of an earlier one no longer count as pending. */
  private epoch = 0;
  private willFor: () => LinkWill | undefined = () => undefined;
  /** The will of the current connection. */
  private will: LinkWill | undefined;
  private readonly upListeners: (() => void)[] = [];

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly metrics: IngestMetrics,
  ) {
    const link = config.link;
    this.session = new LinkSession(
      {
        url: link.url,
        clientId: link.clientId,
        username: link.username,
        password: link.password,
        keepaliveS: link.keepaliveS,
        subscriptions: [LINK_TOPIC],
        willFor: () => (this.will = this.willFor()),
      },
      {
        message: (m) => this.onBatch(m),
        state: (up) => {
          this.metrics.mqttConnected.set(up ? 1 : 0);
          if (up) {
            for (const listener of this.upListeners) listener();
            return;
          }
          this.epoch++;
          this.setPending(0); // the broker sends that connection's batches again
        },
        log: (level, line) => this.logger[level](line),
      },
    );
  }

  get connected(): boolean {
    return this.session.connected;
  }

  /** Device messages received and not acknowledged yet. */
  get pending(): number {
    return this.pendingMessages;
  }

  /** Attaches to the broker; resolves once the first link is up. */
  start(handler: MessageHandler): Promise<void> {
    this.handler = handler;
    return this.session.start();
  }

  /**
   * Publishes through the broker, within the ingestion role's rights (dead letters at QoS 0,
   * Sparkplug STATE and commands); false while the link is down.
   */
  publish(
    topic: string,
    payload: string | Buffer,
    options: { readonly qos?: 0 | 1; readonly retain?: boolean } = {},
  ): boolean {
    return this.session.publish(topic, payload, options.retain ?? false, options.qos ?? 0);
  }

  /**
   * The will of every CONNECT from now on (asked again before each connection). `stop()`
   * publishes it before its DISCONNECT, which makes the broker discard the will.
   */
  setWill(willFor: () => LinkWill | undefined): void {
    this.willFor = willFor;
  }

  /** Called each time the link is up (after its SUBACK), before any batch of that connection. */
  onUp(listener: () => void): void {
    this.upListeners.push(listener);
  }

  /** Takes no more batches; those received can still be acknowledged. */
  stopConsuming(): void {
    this.session.stopReading();
  }

  stop(): Promise<void> {
    const will = this.will;
    if (will) this.session.publish(will.topic, will.payload, will.retain, 1);
    return this.session.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  private setPending(n: number): void {
    this.pendingMessages = n;
    this.metrics.setPending(n);
  }

  private onBatch(batch: SessionMessage): void {
    if (batch.topic !== LINK_TOPIC) return batch.ack();
    let messages;
    try {
      messages = decodeBatch(batch.payload);
    } catch (error) {
      // Not ours to judge device data by: a broker of another version. Acknowledging it would
      // lose its messages; leaving it unacknowledged holds its devices until someone upgrades.
      this.logger.error(
        `batch from the broker refused: ${(error as BatchFormatError).message} (is the broker of another version?)`,
      );
      return;
    }
    if (messages.length === 0) return batch.ack();
    let left = messages.length;
    const epoch = this.epoch;
    this.setPending(this.pendingMessages + messages.length);
    for (const m of messages) {
      let done = false;
      this.handler({
        topic: m.topic,
        payload: m.payload,
        retain: m.retain,
        will: m.will,
        clientId: m.clientId,
        receivedAt: m.receivedAt,
        ack: () => {
          if (done) return;
          done = true;
          if (epoch !== this.epoch) return;
          this.setPending(this.pendingMessages - 1);
          if (--left === 0) {
            batch.ack();
            this.metrics.acked(messages.length);
          }
        },
      });
    }
  }
}
