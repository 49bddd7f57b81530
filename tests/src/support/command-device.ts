import { deviceCredentials } from '@parkpulse/dev-services';
import { parseCommandMessage, type CommandMessage } from '@parkpulse/telemetry';
import mqtt, { type MqttClient } from 'mqtt';

/**
 * A device written for the tests, on MQTT.js: it announces itself (`online` retained, `offline`
 * as its will), and, when asked to, subscribes to its `cmd` and answers as told.
 */
export class CommandDevice {
  readonly base: string;
  readonly received: CommandMessage[] = [];
  private client: MqttClient | undefined;

  constructor(
    readonly address: { park: string; site: string; assetType: string; deviceId: string },
    private readonly url: string,
    /**
     * What to answer: `done` (accepted, then done), `silent` (PUBACK only), `accept-only`,
     * `done-before-puback` (`done` published from the message handler, before MQTT.js sends the
     * PUBACK).
     */
    public behaviour: 'done' | 'silent' | 'accept-only' | 'done-before-puback' = 'done',
    /** Subscribe to `cmd` (a device that does not never gets a command). */
    private readonly subscribe = true,
    /** `false`: a persistent session (the broker keeps its subscription and undelivered QoS 1). */
    private readonly clean = true,
  ) {
    const a = address;
    this.base = `parks/${a.park}/${a.site}/${a.assetType}/${a.deviceId}`;
  }

  get deviceId(): string {
    return this.address.deviceId;
  }

  async connect(subscribe = this.subscribe): Promise<void> {
    const login = deviceCredentials(this.deviceId);
    const client = await mqtt.connectAsync(this.url, {
      clientId: login.clientId,
      username: login.username,
      password: login.password,
      clean: this.clean,
      reconnectPeriod: 0,
      will: { topic: `${this.base}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('message', (topic, payload) => {
      const command = topic === `${this.base}/cmd` ? parseCommandMessage(payload) : undefined;
      if (!command) return;
      this.received.push(command);
      if (this.behaviour === 'silent') return;
      if (this.behaviour === 'done-before-puback') {
        void this.answer(command.id, 'done', { ok: true });
        return;
      }
      // As firmware does: acknowledge the delivery (MQTT.js sends the PUBACK when this handler
      // returns), then work and answer.
      setImmediate(() => {
        void this.answer(command.id, 'accepted');
        if (this.behaviour === 'done') void this.answer(command.id, 'done', { ok: true });
      });
    });
    if (subscribe) await client.subscribeAsync(`${this.base}/cmd`, { qos: 1 });
    await client.publishAsync(`${this.base}/status`, 'online', { qos: 1, retain: true });
  }

  /** Subscribes to its `cmd` now (a device that came up without it). */
  async subscribeNow(): Promise<void> {
    await this.client!.subscribeAsync(`${this.base}/cmd`, { qos: 1 });
  }

  async answer(id: string, status: string, result?: object, topicBase = this.base): Promise<void> {
    await this.client!.publishAsync(
      `${topicBase}/cmd_result`,
      JSON.stringify({ id, status, ...(result ? { result } : {}) }),
      { qos: 1 },
    );
  }

  /** Goes offline politely (`offline` retained, then DISCONNECT). */
  async disconnect(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await client.publishAsync(`${this.base}/status`, 'offline', { qos: 1, retain: true });
    await client.endAsync();
    this.client = undefined;
  }
}
