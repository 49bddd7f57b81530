import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ledgerPoint, MEASUREMENT } from '@parkpulse/influx';
import { DeliveryLedger, type ParsedTopic, type Sample } from '@parkpulse/telemetry';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { BatchWriter } from '../storage/batch-writer.service.js';

/**
 * Completeness per device: every stored telemetry sample goes into the delivery ledger (gaps,
 * duplicates, late arrivals, counter resets from `seq`; lag from the device's `ts`), and every
 * `statsIntervalMs` the figures of the devices that sent something are written as
 * `device_ledger` points.
 */
@Injectable()
export class DeliveryLedgerService implements OnModuleInit, OnApplicationShutdown {
  private readonly ledger = new DeliveryLedger();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly writer: BatchWriter,
  ) {}

  onModuleInit(): void {
    if (this.config.statsIntervalMs > 0)
      this.timer = setInterval(() => this.flush(), this.config.statsIntervalMs).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** The samples of one message were stored. */
  stored(topic: ParsedTopic, samples: readonly Sample[], storedAt = Date.now()): void {
    for (const s of samples) this.ledger.record(topic, s.seq, s.ts, storedAt);
  }

  /** Writes the figures of the devices active since the last flush. */
  flush(): void {
    const now = Date.now();
    const points = this.ledger.flush().map((figures) => ledgerPoint(figures, now));
    if (points.length === 0) return;
    this.writer.submit({ points, stored: () => undefined, topic: MEASUREMENT.ledger });
  }
}
