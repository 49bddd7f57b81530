import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Point } from '@influxdata/influxdb-client';
import { parseRegistry } from '@parkpulse/access';
import { rejectPoint, statusPoint, telemetryLines, uniqueNowMs } from '@parkpulse/influx';
import {
  SparkplugHost,
  type HostStateMessages,
  type SparkplugOutcome,
  type SparkplugPublish,
} from '@parkpulse/sparkplug';
import {
  parseSparkplugTopic,
  SPARKPLUG_NAMESPACE,
  type ParsedTopic,
  type RejectReason,
} from '@parkpulse/telemetry';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { DeadLetterPublisher } from '../dead-letters/dead-letter.publisher.js';
import { DeliveryLedgerService } from '../ledger/delivery-ledger.service.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import { MqttConsumer, type InboundMessage } from '../mqtt/mqtt-consumer.service.js';
import { PresenceService } from '../presence/presence.service.js';
import { BatchWriter } from '../storage/batch-writer.service.js';
import { HostStateStore } from './host-state-store.js';

/** How often the host's timers run (reorder timeouts → rebirth requests). */
const TICK_MS = 1000;

/**
 * ParkPulse as a Sparkplug B host application (the logic is @parkpulse/sparkplug's): every
 * `spBv1.0/…` message of the ingest link goes through the host, and what it returns goes where
 * the JSON contract's does — telemetry to points of the same measurements, BIRTH/DEATH to
 * presence and `device_status`, refusals to dead letters, seq to the delivery ledger — in one
 * submission, acknowledged once stored. Rebirth requests are published through the broker.
 *
 * The host's STATE: its death is the link's will (asked for before each CONNECT, with that
 * connection's timestamp; MqttConsumer also publishes it before an intentional disconnect); its
 * birth is published retained each time the link is up. Its state (sessions, aliases, seq) is kept in SPOOL_DIR so
 * that a restart reads DATA of sessions born before it.
 *
 * Inert when the registry has no `sparkplug:` section: `spBv1.0/…` are then dead letters as any
 * other topic outside the contract.
 */
@Injectable()
export class SparkplugIngest implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Sparkplug');
  private host: SparkplugHost | undefined;
  private store: HostStateStore | undefined;
  /** The host's state changed since it was last saved. */
  private dirty = false;
  private state: HostStateMessages | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Last status timestamp per device: two of one device never share a millisecond. */
  private readonly lastStatusTs = new Map<string, number>();

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly consumer: MqttConsumer,
    private readonly writer: BatchWriter,
    private readonly ledger: DeliveryLedgerService,
    private readonly presence: PresenceService,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly metrics: IngestMetrics,
  ) {}

  /** Whether the registry declares Sparkplug edge nodes (else every method is a no-op). */
  get enabled(): boolean {
    return this.host !== undefined;
  }

  /** The Sparkplug namespace's topics, which `handle` takes when enabled. */
  accepts(topic: string): boolean {
    return this.host !== undefined && topic.startsWith(`${SPARKPLUG_NAMESPACE}/`);
  }

  onModuleInit(): void {
    const { registryFile, registryRequired, hostId } = this.config.sparkplug;
    let text: string;
    try {
      text = readFileSync(registryFile, 'utf8');
    } catch (error) {
      if (registryRequired)
        throw new Error(`REGISTRY_FILE: cannot read ${registryFile}: ${(error as Error).message}`);
      this.logger.log(`no registry at ${registryFile}: the Sparkplug host is off`);
      return;
    }
    // The broker checks the secrets; the ingestion reads the mapping only.
    const registry = parseRegistry(text, {}, { requireSecrets: false });
    const sparkplug = registry.sparkplug;
    if (!sparkplug) {
      this.logger.log(`${registryFile} has no sparkplug section: the Sparkplug host is off`);
      return;
    }
    // Edge nodes may watch only the registry's host id (the broker's ACL): one name for both.
    if (hostId !== undefined && hostId !== sparkplug.hostId)
      throw new Error(
        `SPARKPLUG_HOST_ID=${hostId} but ${registryFile} names the host ${JSON.stringify(sparkplug.hostId)} (sparkplug.hostId): edge nodes may subscribe to that one's STATE only`,
      );
    const host = new SparkplugHost({
      mapping: { ...sparkplug, hostId: hostId ?? sparkplug.hostId },
      limits: this.config.limits,
    });
    this.store = new HostStateStore(join(this.config.spool.dir, 'sparkplug', 'host.json'));
    try {
      const snapshot = this.store.load();
      if (snapshot) host.restore(snapshot);
    } catch (error) {
      this.logger.error(
        `cannot read the host's state: ${(error as Error).message}; edge nodes are asked to rebirth as their DATA comes`,
      );
    }
    this.host = host;
    this.consumer.setWill(() => {
      // A new connection, a new STATE timestamp: its birth (after SUBACK) carries the same.
      this.state = host.stateMessages(Date.now());
      const death = this.state.death;
      return { topic: death.topic, payload: death.payload, retain: death.retain };
    });
    this.consumer.onUp(() => {
      if (this.state) this.send(this.state.birth, 'state');
    });
    this.timer = setInterval(() => this.tick(), TICK_MS).unref();
    this.logger.log(
      `Sparkplug host ${JSON.stringify(host.mapping.mapping.hostId)}: ${host.mapping.size} edge node(s) from ${registryFile}`,
    );
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.save();
  }

  handle(message: InboundMessage): void {
    const host = this.host;
    if (!host) return message.ack();
    this.metrics.messageIn('sparkplug');
    const out = host.handle({
      topic: message.topic,
      payload: message.payload,
      receivedAt: message.receivedAt,
    });
    this.dirty = true;
    this.count(out);
    for (const p of out.publishes) this.send(p, 'rebirth');
    const first = out.rejects[0];
    if (first) return this.deadLetter(message, out, first.reason, first.detail);

    // Telemetry as line protocol directly, as the JSON path writes it (the same bytes as the
    // points would give: pinned by the Sparkplug golden cases).
    const points: (Point | string)[] = [];
    for (const t of out.telemetry) {
      points.push(...telemetryLines(t));
      for (const drop of t.dropped) {
        this.metrics.fieldDropped(drop.reason);
        points.push(
          this.rejectFor(
            message,
            `field_${drop.reason}`,
            `${drop.metric}: ${drop.detail}`,
            t.topic,
          ),
        );
      }
      this.presence.seen(t.topic);
    }
    for (const s of out.status) {
      this.presence.status(s.topic, s.online);
      const key = `${s.topic.park}/${s.topic.site}/${s.topic.deviceId}`;
      const last = this.lastStatusTs.get(key) ?? 0;
      const ts = s.ts > last ? s.ts : last + 1;
      this.lastStatusTs.set(key, ts);
      points.push(statusPoint({ ...s, ts }));
    }
    this.submit(message, points, out);
  }

  private tick(): void {
    const host = this.host;
    if (!host) return;
    const out = host.tick(Date.now());
    if (out.notes.length === 0 && out.publishes.length === 0) return;
    this.dirty = true;
    this.count(out);
    for (const p of out.publishes) this.send(p, 'rebirth');
  }

  private deadLetter(
    message: InboundMessage,
    out: SparkplugOutcome,
    reason: RejectReason,
    detail: string,
  ): void {
    this.metrics.rejected(reason);
    const letter = { reason, detail, topic: message.topic, receivedAt: message.receivedAt };
    this.submit(
      message,
      [this.rejectFor(message, reason, detail, this.addressOf(message.topic))],
      out,
      () => this.deadLetters.publish({ ...letter, payload: message.payload }),
    );
  }

  /** One submission per message: acknowledged once stored, the ledger and host state first. */
  private submit(
    message: InboundMessage,
    points: (Point | string)[],
    out: SparkplugOutcome,
    afterAck?: () => void,
  ): void {
    // Recorded before the write's acknowledgements: the ledger's journal is written between the
    // two (BatchWriter.beforeAcks), so a crash cannot acknowledge what it lacks.
    const recorded = () => {
      for (const l of out.ledger)
        this.ledger.stored(l.topic, [{ seq: l.seq, ts: l.ts, fields: {} }]);
      this.save();
    };
    const stored = () => {
      message.ack();
      afterAck?.();
    };
    if (points.length === 0) {
      recorded();
      this.ledger.sync();
      return stored();
    }
    const park = out.telemetry[0]?.topic.park ?? out.status[0]?.topic.park;
    this.writer.submit({
      points,
      recorded,
      stored,
      topic: message.topic,
      receivedAt: message.receivedAt,
      payload: message.payload,
      ...(park ? { park } : {}),
    });
  }

  /** Before a message is acknowledged: what the host learnt from it survives a crash. */
  private save(): void {
    if (!this.dirty || !this.host || !this.store) return;
    try {
      this.store.save(this.host.snapshot());
      this.dirty = false;
    } catch (error) {
      this.logger.error(`cannot save the host's state: ${(error as Error).message}`);
    }
  }

  private send(p: SparkplugPublish, kind: 'state' | 'rebirth'): void {
    const sent = this.consumer.publish(p.topic, p.payload, { qos: p.qos, retain: p.retain });
    this.metrics.sparkplugPublishes.inc({ kind, result: sent ? 'sent' : 'unsent' });
  }

  private count(out: SparkplugOutcome): void {
    for (const n of out.notes) this.metrics.sparkplugNotes.inc({ note: n.note });
  }

  /** The ParkPulse device a Sparkplug topic stands for, when the registry maps it. */
  private addressOf(topic: string): ParsedTopic | undefined {
    const t = parseSparkplugTopic(topic);
    if (!t.ok || t.value.kind === 'state') return undefined;
    const node = this.host?.mapping.node(t.value.group, t.value.node);
    if (!node) return undefined;
    return t.value.kind === 'device'
      ? (node.devices.get(t.value.device)?.topic ?? node.topic)
      : node.topic;
  }

  private rejectFor(
    message: InboundMessage,
    reason: Parameters<typeof rejectPoint>[0]['reason'],
    detail: string,
    topic: ParsedTopic | undefined,
  ): Point {
    return rejectPoint({
      ts: uniqueNowMs(),
      reason,
      topic: message.topic,
      detail,
      ...(topic
        ? { park: topic.park, device: topic.deviceId }
        : message.clientId
          ? { device: message.clientId }
          : {}),
    });
  }
}
