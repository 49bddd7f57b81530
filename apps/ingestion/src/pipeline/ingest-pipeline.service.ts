import { Inject, Injectable } from '@nestjs/common';
import type { Point } from '@influxdata/influxdb-client';
import {
  commandResultPoint,
  eventPoint,
  rejectPoint,
  statusPoint,
  telemetryLines,
  uniqueNowMs,
} from '@parkpulse/influx';
import {
  ContractError,
  DEAD_LETTER_TOPIC_ROOT,
  decodeCommandResult,
  decodeEvent,
  decodeStatus,
  decodeTelemetry,
  parseTopic,
  type DecodeContext,
  type ParsedTopic,
  type Result,
} from '@parkpulse/telemetry';
import { DeadLetterPublisher } from '../dead-letters/dead-letter.publisher.js';
import { DeliveryLedgerService } from '../ledger/delivery-ledger.service.js';
import { PresenceService } from '../presence/presence.service.js';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import type { InboundMessage } from '../mqtt/mqtt-consumer.service.js';
import { SparkplugIngest } from '../sparkplug/sparkplug-ingest.service.js';
import { BatchWriter } from '../storage/batch-writer.service.js';
import { PlatformStats } from './platform-stats.service.js';

/**
 * decode ▶ validate ▶ map ▶ batch write, for every message the broker delivers. Every message ends
 * in exactly one submission to the batch writer — its points, or its dead letter — and is
 * acknowledged only once that submission is stored. Nothing here throws on bad input.
 */
@Injectable()
export class IngestPipeline {
  /** Last status stored per device (`park/site/device` → online), to skip retained replays. */
  private readonly lastStatus = new Map<string, boolean>();
  /** Timestamp of the last status stored per device (statuses never share one). */
  private readonly lastStatusTs = new Map<string, number>();

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly writer: BatchWriter,
    private readonly metrics: IngestMetrics,
    private readonly platform: PlatformStats,
    private readonly ledger: DeliveryLedgerService,
    private readonly presence: PresenceService,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly sparkplug: SparkplugIngest,
  ) {}

  handle(message: InboundMessage): void {
    // Our own dead letters, should they ever come back: never a dead letter again.
    if (message.topic.startsWith(`${DEAD_LETTER_TOPIC_ROOT}/`)) return message.ack();
    if (message.topic.startsWith('$SYS/')) {
      this.metrics.messageIn('sys');
      this.submit(message, this.platform.brokerStatsPoints(message.payload));
      return;
    }
    // Sparkplug B edge nodes, when the registry declares some (else: outside the contract).
    if (this.sparkplug.accepts(message.topic)) return this.sparkplug.handle(message);
    const parsed = parseTopic(message.topic);
    if (!parsed.ok) {
      this.metrics.messageIn('invalid');
      this.deadLetter(message, parsed.error);
      return;
    }
    const topic = parsed.value;
    this.metrics.messageIn(topic.channel);
    const ctx: DecodeContext = { receivedAt: message.receivedAt, limits: this.config.limits };
    switch (topic.channel) {
      case 'telemetry': {
        const decoded = decodeTelemetry(topic, message.payload, ctx);
        if (!decoded.ok) return this.deadLetter(message, decoded.error, topic);
        // A newer seq at a timestamp not after the device's newest is refused (clock regression).
        const clock = this.ledger.admit(topic, decoded.value.samples);
        if (clock.detail !== undefined && clock.admitted.length === 0)
          return this.deadLetter(
            message,
            new ContractError('clock_regression', clock.detail),
            topic,
          );
        const points: (Point | string)[] = telemetryLines({
          ...decoded.value,
          samples: clock.admitted,
        });
        // Dropped fields are recorded beside the stored sample, in the same write.
        for (const drop of decoded.value.dropped) {
          this.metrics.fieldDropped(drop.reason);
          points.push(
            this.rejectFor(
              message.topic,
              `field_${drop.reason}`,
              `${drop.metric}: ${drop.detail}`,
              topic,
            ),
          );
        }
        if (clock.detail !== undefined) {
          this.metrics.rejected('clock_regression');
          points.push(this.rejectFor(message.topic, 'clock_regression', clock.detail, topic));
        }
        this.presence.seen(topic);
        const samples = clock.admitted;
        this.submit(message, points, topic, {
          onStored: () => this.ledger.stored(topic, samples),
          ...(clock.detail !== undefined
            ? { afterAck: () => this.publishDeadLetter(message, 'clock_regression', clock.detail!) }
            : {}),
        });
        return;
      }
      case 'status': {
        const decoded = decodeStatus(topic, message.payload, ctx);
        if (decoded.ok) {
          this.presence.status(topic, decoded.value.online);
          // A retained status is replayed each time we subscribe; store it only when it tells
          // something new. (Aedes also flags as retained a status queued for us while we were
          // away, which is new: so the flag alone cannot decide.)
          const key = `${topic.park}/${topic.site}/${topic.deviceId}`;
          if (message.retain && this.lastStatus.get(key) === decoded.value.online)
            return message.ack();
          this.lastStatus.set(key, decoded.value.online);
          // Two statuses of one device in the same millisecond (connect and drop) would be one
          // point in InfluxDB, the later overwriting the earlier: keep each its own millisecond.
          const last = this.lastStatusTs.get(key) ?? 0;
          const ts = decoded.value.ts > last ? decoded.value.ts : last + 1;
          this.lastStatusTs.set(key, ts);
          return this.submit(message, [statusPoint({ ...decoded.value, ts })], topic);
        }
        return this.store(message, decoded, statusPoint, topic);
      }
      case 'event':
        return this.store(message, decodeEvent(topic, message.payload, ctx), eventPoint, topic);
      case 'cmd_result':
        // A device's answer to a command: recorded as `device_command` (the operations service
        // tracks the command itself).
        return this.store(
          message,
          decodeCommandResult(topic, message.payload, ctx),
          commandResultPoint,
          topic,
        );
      case 'cmd':
        // Commands flow down to devices; a subscription pattern that matched one is a config mistake.
        return message.ack();
    }
  }

  private store<T>(
    message: InboundMessage,
    decoded: Result<T>,
    toPoint: (value: T) => Point,
    topic: ParsedTopic,
  ): void {
    if (!decoded.ok) return this.deadLetter(message, decoded.error, topic);
    this.submit(message, [toPoint(decoded.value)], topic);
  }

  private deadLetter(message: InboundMessage, error: ContractError, topic?: ParsedTopic): void {
    this.metrics.rejected(error.reason);
    this.submit(
      message,
      // A topic that does not parse still came from an authenticated device: its client id.
      [this.rejectFor(message.topic, error.reason, error.detail, topic, message.clientId)],
      topic,
      {
        // Published once recorded and acknowledged (see DeadLetterPublisher).
        afterAck: () => this.publishDeadLetter(message, error.reason, error.detail),
      },
    );
  }

  private publishDeadLetter(
    message: InboundMessage,
    reason: ContractError['reason'],
    detail: string,
  ): void {
    this.deadLetters.publish({
      reason,
      detail,
      topic: message.topic,
      receivedAt: message.receivedAt,
      payload: message.payload,
    });
  }

  private rejectFor(
    topicText: string,
    reason: Parameters<typeof rejectPoint>[0]['reason'],
    detail: string,
    topic?: ParsedTopic,
    clientId?: string,
  ): Point {
    return rejectPoint({
      ts: uniqueNowMs(),
      reason,
      topic: topicText,
      detail,
      ...(topic
        ? { park: topic.park, device: topic.deviceId }
        : clientId
          ? { device: clientId }
          : {}),
    });
  }

  private submit(
    message: InboundMessage,
    points: (Point | string)[],
    topic?: ParsedTopic,
    hooks: { onStored?: () => void; afterAck?: () => void } = {},
  ): void {
    if (points.length === 0) return message.ack();
    this.writer.submit({
      points,
      ...(hooks.onStored ? { recorded: hooks.onStored } : {}),
      stored: () => {
        message.ack();
        hooks.afterAck?.();
      },
      topic: message.topic,
      receivedAt: message.receivedAt,
      payload: message.payload,
      ...(topic ? { park: topic.park } : {}),
    });
  }
}
