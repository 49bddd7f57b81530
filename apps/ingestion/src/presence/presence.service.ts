import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { MEASUREMENT, parkPresencePoint, presencePoint } from '@parkpulse/influx';
import { PresenceTracker, type ParsedTopic } from '@parkpulse/telemetry';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { BatchWriter } from '../storage/batch-writer.service.js';

/** How often presence is re-evaluated (a stale device is noticed within this). */
const EVALUATE_EVERY_MS = 1000;

/**
 * Presence per device (online / stale / offline / flapping, see PresenceTracker) from the status
 * messages and telemetry this ingestion receives: each change is written to `device_status` as
 * `presence`, and every stats interval the devices per park and state as `park_presence`.
 */
@Injectable()
export class PresenceService implements OnModuleInit, OnApplicationShutdown {
  private readonly tracker: PresenceTracker;
  private evaluateTimer: NodeJS.Timeout | undefined;
  private countsTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly writer: BatchWriter,
  ) {
    this.tracker = new PresenceTracker(config.presence);
  }

  onModuleInit(): void {
    this.evaluateTimer = setInterval(() => this.evaluate(), EVALUATE_EVERY_MS).unref();
    if (this.config.statsIntervalMs > 0)
      this.countsTimer = setInterval(() => this.writeCounts(), this.config.statsIntervalMs).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.evaluateTimer);
    clearInterval(this.countsTimer);
  }

  status(topic: ParsedTopic, online: boolean): void {
    this.tracker.status(topic, online, Date.now());
  }

  seen(topic: ParsedTopic): void {
    this.tracker.seen(topic, Date.now());
  }

  /** Writes the devices whose presence changed. */
  evaluate(now = Date.now()): void {
    const points = this.tracker
      .evaluate(now)
      .map((change) => presencePoint(change.topic, change.state, now));
    if (points.length > 0)
      this.writer.submit({ points, stored: () => undefined, topic: MEASUREMENT.status });
  }

  /** Writes the devices per park and state. */
  writeCounts(now = Date.now()): void {
    const points = [...this.tracker.counts()].map(([park, counts]) =>
      parkPresencePoint(park, counts, this.config.instanceId, now),
    );
    if (points.length > 0)
      this.writer.submit({ points, stored: () => undefined, topic: MEASUREMENT.parkPresence });
  }
}
