import { formatTopic, type FieldValue } from '@parkpulse/telemetry';
import mqtt, { type MqttClient } from 'mqtt';
import type { DeviceSpec } from './fleet.js';
import { SignalModel } from './signals.js';

export interface SentMessage {
  readonly deviceId: string;
  readonly topic: string;
  readonly seq: number;
  readonly ts: number;
  readonly metrics: Record<string, FieldValue>;
}

export interface DeviceCounters {
  sent: number;
  acked: number;
  failed: number;
}

/**
 * One simulated device: its own MQTT connection (client id = device id), `online` retained on
 * its status channel and `offline` as its last will, QoS-1 telemetry with `seq` and `ts`.
 */
export class SimDevice {
  readonly counters: DeviceCounters = { sent: 0, acked: 0, failed: 0 };
  private client: MqttClient | undefined;
  private readonly model: SignalModel;
  private readonly telemetryTopic: string;
  private readonly statusTopic: string;
  private seq = 0;
  private lastTs = 0;

  constructor(
    readonly spec: DeviceSpec,
    seed: number,
  ) {
    this.model = new SignalModel(spec.asset, spec.deviceId, seed);
    const address = {
      park: spec.park,
      site: spec.site,
      assetType: spec.asset.id,
      deviceId: spec.deviceId,
    };
    this.telemetryTopic = formatTopic({ ...address, channel: 'telemetry' });
    this.statusTopic = formatTopic({ ...address, channel: 'status' });
  }

  async connect(
    url: string,
    credentials: { username?: string; password?: string } = {},
  ): Promise<void> {
    this.client = await mqtt.connectAsync(url, {
      clientId: this.spec.deviceId,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 30_000,
      will: { topic: this.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...credentials,
    });
    await this.client.publishAsync(this.statusTopic, 'online', { qos: 1, retain: true });
  }

  /** Publishes the next telemetry sample at QoS 1; resolves on PUBACK (or counts a failure). */
  async publishNext(latencies: number[], onSent?: (m: SentMessage) => void): Promise<void> {
    const client = this.client;
    if (!client) throw new Error(`${this.spec.deviceId} is not connected`);
    const now = Date.now();
    const dtS =
      this.lastTs === 0
        ? this.spec.asset.reportIntervalS
        : Math.max(0.001, (now - this.lastTs) / 1000);
    // Unique per device: InfluxDB keeps one point per series and timestamp.
    const ts = Math.max(now, this.lastTs + 1);
    this.lastTs = ts;
    const seq = ++this.seq;
    const metrics = this.model.next(dtS);
    const payload = JSON.stringify({ ts, seq, metrics });
    this.counters.sent++;
    onSent?.({ deviceId: this.spec.deviceId, topic: this.telemetryTopic, seq, ts, metrics });
    const started = performance.now();
    try {
      await client.publishAsync(this.telemetryTopic, payload, { qos: 1 });
      this.counters.acked++;
      latencies.push(performance.now() - started);
    } catch {
      this.counters.failed++;
    }
  }

  /** Graceful: `offline` retained, then DISCONNECT (so no last will). */
  async disconnect(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await client
      .publishAsync(this.statusTopic, 'offline', { qos: 1, retain: true })
      .catch(() => undefined);
    await client.endAsync();
  }
}
