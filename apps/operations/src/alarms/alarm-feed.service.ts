import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import mqtt, { type MqttClient } from 'mqtt';
import {
  DEFAULT_LIMITS,
  TOPIC_ROOT,
  decodeEvent,
  decodeStatus,
  decodeTelemetry,
  parseTopic,
  type DecodeContext,
} from '@parkpulse/telemetry';
import { OPERATIONS_CONFIG, type OperationsConfig } from '../config/operations-config.js';
import { AlarmEngine } from './alarm-engine.service.js';
import { DeviceState } from './device-state.service.js';

/** What the alarms read: every device's telemetry, events and presence. */
export const ALARM_SUBSCRIPTIONS = [
  `${TOPIC_ROOT}/+/+/+/+/telemetry`,
  `${TOPIC_ROOT}/+/+/+/+/event`,
  `${TOPIC_ROOT}/+/+/+/+/status`,
] as const;

/**
 * The alarms' own MQTT connection, as a consumer of the live stream (the broker delivers a
 * device message once the ingestion has stored it). A clean session: what happened while the
 * service was away is not replayed — each alarm's state is in the database, and the next sample
 * or the retained status brings the condition up to date.
 */
@Injectable()
export class AlarmFeed implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('AlarmFeed');
  private client: MqttClient | undefined;
  private subscribed = false;

  constructor(
    @Inject(OPERATIONS_CONFIG) private readonly config: OperationsConfig,
    private readonly engine: AlarmEngine,
    private readonly devices: DeviceState,
  ) {}

  get ready(): boolean {
    return !this.config.alarms.enabled || ((this.client?.connected ?? false) && this.subscribed);
  }

  onModuleInit(): void {
    if (!this.config.alarms.enabled) return;
    const { url, clientId, username, password } = this.config.mqtt;
    const client = mqtt.connect(url, {
      clientId: `${clientId}-alarms`.slice(0, 64),
      username,
      password,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      protocolVersion: 4,
    });
    this.client = client;
    client.on('connect', () => {
      this.subscribed = false;
      client.subscribe([...ALARM_SUBSCRIPTIONS], { qos: 1 }, (error, granted) => {
        const refused = granted?.filter((g) => g.qos === 128) ?? [];
        if (error || refused.length > 0) {
          this.log.error(
            `alarm subscriptions refused (${error?.message ?? refused.map((g) => g.topic).join(', ')}): check the account's role`,
          );
          return;
        }
        this.subscribed = true;
        this.log.log(`alarms subscribed to telemetry, events and status on ${url}`);
      });
    });
    client.on('close', () => (this.subscribed = false));
    client.on('error', (error) => this.log.warn(`alarm feed: ${error.message}`));
    client.on('message', (topic, payload) => this.handle(topic, payload));
  }

  handle(topicText: string, payload: Buffer): void {
    const topic = parseTopic(topicText);
    if (!topic.ok) return;
    const t = topic.value;
    const ctx: DecodeContext = { receivedAt: Date.now(), limits: DEFAULT_LIMITS };
    const address = { park: t.park, site: t.site, assetType: t.assetType, deviceId: t.deviceId };
    switch (t.channel) {
      case 'telemetry': {
        const m = decodeTelemetry(t, payload, ctx);
        if (!m.ok) return;
        for (const s of m.value.samples) {
          this.devices.sample(address, s.fields, s.ts);
          // Evaluated at arrival: a device's clock decides nothing about delays.
          this.engine.sample(address, s.fields, ctx.receivedAt);
        }
        return;
      }
      case 'event': {
        const e = decodeEvent(t, payload, ctx);
        if (!e.ok) return;
        this.devices.event(address, e.value);
        this.engine.event(address, e.value.severity, e.value.code, e.value.message, ctx.receivedAt);
        return;
      }
      case 'status': {
        const s = decodeStatus(t, payload, ctx);
        if (s.ok) this.engine.presence(address, s.value.online, ctx.receivedAt);
        return;
      }
      case 'cmd':
      case 'cmd_result':
        return;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.endAsync().catch(() => undefined);
  }
}
