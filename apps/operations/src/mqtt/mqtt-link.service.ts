import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import mqtt, { type MqttClient } from 'mqtt';
import { COMMAND_DELIVERIES_TOPIC_ROOT, TOPIC_ROOT } from '@parkpulse/telemetry';
import { OPERATIONS_CONFIG, type OperationsConfig } from '../config/operations-config.js';

/** What the service reads: presence, the devices' answers, the broker's delivery notices. */
export const SUBSCRIPTIONS = [
  `${TOPIC_ROOT}/+/+/+/+/status`,
  `${TOPIC_ROOT}/+/+/+/+/cmd_result`,
  `${COMMAND_DELIVERIES_TOPIC_ROOT}/#`,
] as const;

export type InboundHandler = (topic: string, payload: Buffer, retain: boolean) => Promise<void>;

const PUBLISH_TIMEOUT_MS = 5000;

/**
 * The service's MQTT session, as the `parkpulse-operations` service account: a persistent
 * session (clean = false) at QoS 1, so that results and delivery notices published while the
 * service is away wait for it in the broker. A message is acknowledged (PUBACK) only after its
 * handler has recorded it, so a crash in between gets it again.
 */
@Injectable()
export class MqttLinkService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('Mqtt');
  private client: MqttClient | undefined;
  private handler: InboundHandler = () => Promise.resolve();
  private subscribed = false;

  constructor(@Inject(OPERATIONS_CONFIG) private readonly config: OperationsConfig) {}

  /** Where inbound messages go (set once by the commands module). */
  onMessage(handler: InboundHandler): void {
    this.handler = handler;
  }

  get ready(): boolean {
    return (this.client?.connected ?? false) && this.subscribed;
  }

  onModuleInit(): void {
    const { url, clientId, username, password } = this.config.mqtt;
    const client = mqtt.connect(url, {
      clientId,
      username,
      password,
      clean: false,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      protocolVersion: 4,
      resubscribe: false,
    });
    this.client = client;
    // PUBACK after the handler: mqtt.js sends it when `done` is called.
    client.handleMessage = (packet, done) => {
      const p = packet;
      const payload = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload);
      this.handler(p.topic, payload, p.retain).then(
        () => done(),
        (error: Error) => {
          this.log.error(`handling ${p.topic}: ${error.message}`);
          done(error);
        },
      );
    };
    client.on('connect', () => {
      this.subscribed = false;
      client.subscribe(
        SUBSCRIPTIONS.map((t) => t),
        { qos: 1 },
        (error, granted) => {
          const refused = granted?.filter((g) => g.qos === 128) ?? [];
          if (error || refused.length > 0) {
            this.log.error(
              `subscription refused (${error?.message ?? refused.map((g) => g.topic).join(', ')}): check the account's role`,
            );
            return;
          }
          this.subscribed = true;
          this.log.log(`connected to ${url} as ${username}; subscribed`);
        },
      );
    });
    client.on('close', () => (this.subscribed = false));
    client.on('error', (error) => this.log.warn(`mqtt: ${error.message}`));
  }

  /** Publishes at QoS 1 and resolves on the broker's PUBACK; rejects when not connected. */
  async publish(topic: string, payload: string): Promise<void> {
    const client = this.client;
    if (!client?.connected) throw new Error('not connected to the broker');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.publishAsync(topic, payload, { qos: 1 }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no PUBACK within ${PUBLISH_TIMEOUT_MS} ms`)),
            PUBLISH_TIMEOUT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.endAsync().catch(() => undefined);
  }
}
