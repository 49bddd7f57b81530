import mqtt, { type MqttClient } from 'mqtt';
import { parseCommandMessage, type CommandMessage } from '@parkpulse/telemetry';
import { answersFor, type AnswerBody, type CommandOutcome } from './models/commands.js';

export interface DeviceAddress {
  readonly park: string;
  readonly site: string;
  readonly assetType: string;
  readonly deviceId: string;
}

export interface DeviceCounters {
  /** Telemetry samples handed to the device (sent now or buffered). */
  samples: number;
  /** Samples in messages the broker acknowledged. */
  samplesAcked: number;
  /** MQTT messages published (any channel) and acknowledged. */
  messages: number;
  acked: number;
  failed: number;
  /** Malformed messages sent on purpose (expected dead letters, not counted as samples). */
  malformed: number;
  connects: number;
  /** Samples waiting in the offline buffer now. */
  buffered: number;
  /** Samples dropped because the offline buffer was full. */
  droppedOffline: number;
}

export interface DeviceOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** Reconnect back-off: first delay and ceiling, ms; each attempt waits a random 50–100 % of it. */
  readonly backoffMs?: { readonly min: number; readonly max: number };
  /** Samples kept while offline (oldest dropped beyond it). */
  readonly bufferLimit?: number;
  readonly rng?: () => number;
  /** Latency sink: publish → PUBACK, ms. */
  readonly latencies?: number[];
  /** Called on every (re)connect with the time it happened. */
  readonly onConnect?: (deviceId: string, atMs: number, reconnect: boolean) => void;
  /** Connection-level contract breaches, on purpose (the conformance tester's own tests). */
  readonly faults?: ConnectionFaults;
  /**
   * The device's own handling of a command on its `cmd` topic (it then subscribes to it). The
   * device answers on `cmd_result`: `rejected` at once, or `accepted` and later `done`/`failed`.
   */
  readonly onCommand?: (command: CommandMessage) => CommandOutcome;
}

/** Ways a device can break the connection clauses of the contract. */
export interface ConnectionFaults {
  /** Connect without a last will. */
  readonly noWill?: boolean;
  /** Announce `online` without the retain flag. */
  readonly noRetainedStatus?: boolean;
  /** Reconnect at once after a drop, every time (no back-off, no jitter). */
  readonly noBackoff?: boolean;
  /** Publish at QoS 0. */
  readonly qos0?: boolean;
  /** Connect with a keep-alive of 900 s: the broker accepts it, the contract (30–60 s) does not. */
  readonly longKeepalive?: boolean;
}

/** The keep-alive of a device with the `longKeepalive` fault, seconds. */
export const LONG_KEEPALIVE_S = 900;

const BATCH_LIMIT = 1000;
const BATCH_BYTES = 200 * 1024;

/**
 * One simulated device on its own MQTT connection (client id = device id): `online` retained on
 * its status channel and `offline` as its last will; QoS-1 telemetry; while the connection is
 * down, samples are buffered and uploaded as batches (`{"samples": [...]}`) after reconnecting,
 * which happens with exponential back-off and jitter so that a fleet does not storm the broker.
 */
export class SimDevice {
  readonly counters: DeviceCounters = {
    samples: 0,
    samplesAcked: 0,
    messages: 0,
    acked: 0,
    failed: 0,
    malformed: 0,
    connects: 0,
    buffered: 0,
    droppedOffline: 0,
  };
  readonly topics: {
    readonly telemetry: string;
    readonly status: string;
    readonly event: string;
    readonly cmd: string;
    readonly cmdResult: string;
  };
  /** Commands received (a repeat of the same id counts once), and answers by status. */
  readonly commands = { received: 0, repeats: 0, answers: {} as Record<string, number> };
  /** The answers given per command id: a repeated command gets the same answers again. */
  private readonly answered = new Map<string, string[]>();
  private client: MqttClient | undefined;
  private buffer: string[] = [];
  /** QoS-1 publishes without PUBACK yet, by our own id: resent after a reconnect (see publish()). */
  private readonly inflight = new Map<
    number,
    {
      topic: string;
      payload: string | Buffer;
      samples: number;
      started: number;
      resolve: (ok: boolean) => void;
    }
  >();
  private nextId = 0;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly rng: () => number;

  constructor(
    readonly address: DeviceAddress,
    private readonly options: DeviceOptions,
  ) {
    const base = `parks/${address.park}/${address.site}/${address.assetType}/${address.deviceId}`;
    this.topics = {
      telemetry: `${base}/telemetry`,
      status: `${base}/status`,
      event: `${base}/event`,
      cmd: `${base}/cmd`,
      cmdResult: `${base}/cmd_result`,
    };
    this.rng = options.rng ?? Math.random;
  }

  get deviceId(): string {
    return this.address.deviceId;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Connects (resolves on the first CONNACK) and announces `online`. */
  async connect(): Promise<void> {
    this.closing = false;
    const client = mqtt.connect(this.options.url, {
      clientId: this.address.deviceId,
      clean: true,
      keepalive: this.options.faults?.longKeepalive ? LONG_KEEPALIVE_S : 30,
      reconnectPeriod: 0, // reconnection is ours: back-off with jitter
      connectTimeout: 30_000,
      ...(this.options.faults?.noWill
        ? {}
        : {
            will: {
              topic: this.topics.status,
              payload: Buffer.from('offline'),
              qos: 1 as const,
              retain: true,
            },
          }),
      ...(this.options.username
        ? { username: this.options.username, password: this.options.password ?? '' }
        : {}),
    });
    this.client = client;
    client.on('connect', () => {
      this.counters.connects++;
      this.options.onConnect?.(this.deviceId, Date.now(), this.counters.connects > 1);
      this.attempt = 0;
      // Subscribed before announcing itself: whoever waits for `online` to send a command
      // finds the subscription in place (packets of one connection are handled in order).
      if (this.options.onCommand) client.subscribe(this.topics.cmd, { qos: 1 });
      client.publish(this.topics.status, 'online', {
        qos: this.qos,
        retain: !this.options.faults?.noRetainedStatus,
      });
      this.resendInflight();
      this.flushBuffer();
    });
    client.on('message', (topic, payload) => {
      // After the PUBACK that MQTT.js sends once this handler returns: a device acknowledges
      // the delivery before it answers.
      if (topic === this.topics.cmd) setImmediate(() => this.command(payload));
    });
    client.on('close', () => this.scheduleReconnect());
    client.on('error', () => undefined); // surfaced as 'close'; counted as reconnects
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('close', () =>
        this.counters.connects === 0
          ? reject(new Error(`${this.deviceId}: could not connect to ${this.options.url}`))
          : undefined,
      );
    });
  }

  private command(payload: Buffer): void {
    const command = parseCommandMessage(payload);
    if (!command || !this.options.onCommand) return;
    const earlier = this.answered.get(command.id);
    if (earlier) {
      // The same command again (a redelivery): the same answers, nothing done twice.
      this.commands.repeats++;
      for (const answer of earlier) void this.publish(this.topics.cmdResult, answer, 0);
      return;
    }
    this.commands.received++;
    const answers: string[] = [];
    this.answered.set(command.id, answers);
    const answer = (body: AnswerBody) => {
      const json = JSON.stringify({ id: command.id, ts: Date.now(), ...body });
      answers.push(json);
      this.commands.answers[body.status] = (this.commands.answers[body.status] ?? 0) + 1;
      void this.publish(this.topics.cmdResult, json, 0);
    };
    const { now, later } = answersFor(
      Date.now() > command.expiresAt ? 'expired' : this.options.onCommand(command),
    );
    answer(now);
    // A slow answer, as real equipment gives: `done` after the work took its time.
    if (later) setTimeout(() => answer(later.body), later.afterMs).unref();
  }

  /**
   * Publishes one telemetry sample (JSON object), or buffers it while offline. Resolves true on
   * PUBACK, false when the publish failed or the sample went to the offline buffer.
   */
  sendSample(sample: object): Promise<boolean> {
    this.counters.samples++;
    const json = JSON.stringify(sample);
    if (!this.connected) {
      this.buffer.push(json);
      if (this.buffer.length > (this.options.bufferLimit ?? 10_000)) {
        this.buffer.shift();
        this.counters.droppedOffline++;
      }
      this.counters.buffered = this.buffer.length;
      return Promise.resolve(false);
    }
    return this.publish(this.topics.telemetry, json, 1);
  }

  /** Publishes an event (QoS 1), if connected. */
  sendEvent(event: object): void {
    if (this.connected) void this.publish(this.topics.event, JSON.stringify(event), 0);
  }

  /** Publishes a payload the contract refuses, on purpose. */
  sendMalformed(payload: string | Buffer): void {
    if (!this.connected) return;
    this.counters.malformed++;
    void this.publish(this.topics.telemetry, payload, 0);
  }

  /** Publishes anything (replay); `samples` = telemetry samples it carries. */
  sendRaw(topic: string, payload: string | Buffer, samples = 0): Promise<boolean> {
    this.counters.samples += samples;
    return this.connected ? this.publish(topic, payload, samples) : Promise.resolve(false);
  }

  /** Drops the connection without DISCONNECT (the broker publishes the last will). */
  drop(): void {
    this.client?.stream.destroy();
  }

  /** Graceful: `offline` retained, then DISCONNECT. Buffered samples that never got out stay counted as not acknowledged. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    if (!client) return;
    if (client.connected)
      await client
        .publishAsync(this.topics.status, 'offline', { qos: 1, retain: true })
        .catch(() => undefined);
    // A graceful end waits for MQTT.js's own in-flight list, which can hold a publish whose
    // callback it lost (our ledger says all is acknowledged): do not wait on it forever.
    const ended = await Promise.race([
      client.endAsync().then(
        () => true,
        () => true,
      ),
      sleep(2000).then(() => false),
    ]);
    if (!ended) await client.endAsync(true).catch(() => undefined);
  }

  /** True when every message handed to MQTT got its PUBACK (or failed) and nothing is buffered. */
  get settled(): boolean {
    return this.buffer.length === 0 && this.inflight.size === 0;
  }

  /**
   * QoS 1 at least once, with our own bookkeeping: MQTT.js 5 can lose the callback of a publish
   * that was on the wire when the connection dropped (seen when the broker restarts), so every
   * publish stays in `inflight` until its first PUBACK and is sent again after each reconnect. A
   * duplicate is harmless — the same sample carries the same timestamp — and only the first
   * PUBACK counts.
   */
  private publish(topic: string, payload: string | Buffer, samples: number): Promise<boolean> {
    this.counters.messages++;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.inflight.set(id, { topic, payload, samples, started: performance.now(), resolve });
      this.transmit(id);
    });
  }

  private transmit(id: number): void {
    const entry = this.inflight.get(id);
    if (!entry || !this.client) return;
    this.client.publish(entry.topic, entry.payload, { qos: this.qos }, (error) => {
      const current = this.inflight.get(id);
      if (!current) return; // already acknowledged through another copy
      if (error) {
        // A dropped connection fails every in-flight callback ("Connection closed"), sometimes
        // before `connected` turns false: keep the message for the resend after the reconnect.
        // Only a device that is closing gives up.
        if (this.closing) {
          this.inflight.delete(id);
          this.counters.failed++;
          current.resolve(false);
        }
        return;
      }
      this.inflight.delete(id);
      this.counters.acked++;
      this.counters.samplesAcked += current.samples;
      this.options.latencies?.push(performance.now() - current.started);
      current.resolve(true);
    });
  }

  private resendInflight(): void {
    for (const id of [...this.inflight.keys()]) this.transmit(id);
  }

  private flushBuffer(): void {
    while (this.buffer.length > 0 && this.connected) {
      // At most 1,000 samples and well under the contract's 256 KiB per message.
      let n = 0;
      let bytes = 16;
      while (
        n < this.buffer.length &&
        n < BATCH_LIMIT &&
        bytes + this.buffer[n]!.length + 1 <= BATCH_BYTES
      )
        bytes += this.buffer[n++]!.length + 1;
      const chunk = this.buffer.splice(0, Math.max(1, n));
      void this.publish(this.topics.telemetry, `{"samples":[${chunk.join(',')}]}`, chunk.length);
    }
    this.counters.buffered = this.buffer.length;
  }

  private get qos(): 0 | 1 {
    return this.options.faults?.qos0 ? 0 : 1;
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const { min, max } = this.options.backoffMs ?? { min: 1000, max: 30_000 };
    const ceiling = Math.min(max, min * 2 ** this.attempt++);
    const delay = this.options.faults?.noBackoff ? 0 : ceiling * (0.5 + 0.5 * this.rng());
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closing) this.client?.reconnect();
    }, delay);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
