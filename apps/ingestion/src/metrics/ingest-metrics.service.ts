import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Running totals, read by the platform-stats writer to compute per-interval figures. */
export interface IngestTotals {
  messagesIn: number;
  pointsWritten: number;
  rejects: number;
  fieldsDropped: number;
  writeErrors: number;
  batches: number;
  /** Points appended to the disk spool, and points of it written to InfluxDB later. */
  pointsSpooled: number;
  pointsReplayed: number;
}

/**
 * The ingestion's own figures: Prometheus series for `/metrics` and plain totals for the
 * `platform_ingestion` points. Rejections are counted here, never logged per message.
 */
@Injectable()
export class IngestMetrics {
  readonly registry = new Registry();
  readonly totals: IngestTotals = {
    messagesIn: 0,
    pointsWritten: 0,
    rejects: 0,
    fieldsDropped: 0,
    writeErrors: 0,
    batches: 0,
    pointsSpooled: 0,
    pointsReplayed: 0,
  };
  /** Write latencies (ms) since the last drain, for the platform figures' percentiles. */
  private latencies: number[] = [];

  private readonly messages = new Counter({
    name: 'parkpulse_ingest_messages_total',
    help: 'Messages received, by channel',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  private readonly points = new Counter({
    name: 'parkpulse_ingest_points_written_total',
    help: 'Points accepted by InfluxDB',
    registers: [this.registry],
  });
  private readonly rejectCounter = new Counter({
    name: 'parkpulse_ingest_rejects_total',
    help: 'Dead letters, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly dropCounter = new Counter({
    name: 'parkpulse_ingest_fields_dropped_total',
    help: 'Fields dropped from stored samples, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly writeErrorCounter = new Counter({
    name: 'parkpulse_ingest_write_errors_total',
    help: 'Failed InfluxDB writes, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly batchPoints = new Histogram({
    name: 'parkpulse_ingest_batch_points',
    help: 'Points per InfluxDB write',
    buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000],
    registers: [this.registry],
  });
  private readonly writeLatency = new Histogram({
    name: 'parkpulse_ingest_write_seconds',
    help: 'InfluxDB write latency',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly ackCounter = new Counter({
    name: 'parkpulse_ingest_acks_total',
    help: 'PUBACKs sent to the broker',
    registers: [this.registry],
  });
  private readonly pendingGauge = new Gauge({
    name: 'parkpulse_ingest_pending_messages',
    help: 'Messages received and not yet acknowledged',
    registers: [this.registry],
  });
  /** Messages received and not yet acknowledged, now. */
  pendingNow = 0;
  /** Points waiting for a write, now. */
  queuedPointsNow = 0;
  readonly queuedPoints = new Gauge({
    name: 'parkpulse_ingest_queued_points',
    help: 'Points waiting for a write',
    registers: [this.registry],
  });
  readonly mqttConnected = new Gauge({
    name: 'parkpulse_ingest_mqtt_connected',
    help: '1 while the MQTT session is up',
    registers: [this.registry],
  });
  readonly influxUp = new Gauge({
    name: 'parkpulse_ingest_influxdb_up',
    help: '1 while the last InfluxDB write or ping succeeded',
    registers: [this.registry],
  });

  /** Bytes and segment files of the disk spool, now. */
  spoolBytesNow = 0;
  spoolSegmentsNow = 0;
  private readonly spoolBytes = new Gauge({
    name: 'parkpulse_ingest_spool_bytes',
    help: 'Bytes in the disk spool (batches kept while InfluxDB is down)',
    registers: [this.registry],
  });
  private readonly spoolSegments = new Gauge({
    name: 'parkpulse_ingest_spool_segments',
    help: 'Segment files in the disk spool',
    registers: [this.registry],
  });
  readonly spoolFull = new Gauge({
    name: 'parkpulse_ingest_spool_full',
    help: '1 while the disk spool refuses batches for lack of room (back-pressure into the broker)',
    registers: [this.registry],
  });
  private readonly spooledPoints = new Counter({
    name: 'parkpulse_ingest_spool_points_spooled_total',
    help: 'Points appended to the disk spool (and acknowledged to the broker)',
    registers: [this.registry],
  });
  private readonly replayedPoints = new Counter({
    name: 'parkpulse_ingest_spool_points_replayed_total',
    help: 'Points of the disk spool written to InfluxDB',
    registers: [this.registry],
  });
  readonly spoolDamage = new Counter({
    name: 'parkpulse_ingest_spool_damaged_total',
    help: 'Unreadable spool data skipped: a torn last record after a crash, a damaged or unknown record',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly deadLettersPublished = new Counter({
    name: 'parkpulse_ingest_dead_letters_published_total',
    help: 'Dead letters published on $parkpulse/dead-letters/{topic}',
    registers: [this.registry],
  });
  readonly deadLettersNotPublished = new Counter({
    name: 'parkpulse_ingest_dead_letters_not_published_total',
    help: 'Dead letters stored but not published on MQTT: rate = above DEAD_LETTERS_MQTT_RATE, unsent = no session (or the broker refused our publishes)',
    labelNames: ['cause'],
    registers: [this.registry],
  });

  readonly sparkplugNotes = new Counter({
    name: 'parkpulse_ingest_sparkplug_notes_total',
    help: 'Sparkplug host events that are not dead letters (rebirth_requested, seq_gap, ndeath_ignored, …)',
    labelNames: ['note'],
    registers: [this.registry],
  });
  readonly sparkplugPublishes = new Counter({
    name: 'parkpulse_ingest_sparkplug_publishes_total',
    help: 'Sparkplug host publishes (STATE, NCMD rebirth requests): sent, or unsent while the link is down',
    labelNames: ['kind', 'result'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'parkpulse_ingest_' });
  }

  messageIn(channel: string): void {
    this.totals.messagesIn++;
    this.messages.inc({ channel });
  }

  rejected(reason: string): void {
    this.totals.rejects++;
    this.rejectCounter.inc({ reason });
  }

  fieldDropped(reason: string): void {
    this.totals.fieldsDropped++;
    this.dropCounter.inc({ reason });
  }

  written(points: number, latencyMs: number): void {
    this.totals.pointsWritten += points;
    this.totals.batches++;
    this.points.inc(points);
    this.batchPoints.observe(points);
    this.writeLatency.observe(latencyMs / 1000);
    this.influxUp.set(1);
    if (this.latencies.length < 100_000) this.latencies.push(latencyMs);
  }

  writeFailed(kind: 'retriable' | 'refused'): void {
    this.totals.writeErrors++;
    this.writeErrorCounter.inc({ kind });
    if (kind === 'retriable') this.influxUp.set(0);
  }

  setQueuedPoints(count: number): void {
    this.queuedPointsNow = count;
    this.queuedPoints.set(count);
  }

  setPending(count: number): void {
    this.pendingNow = count;
    this.pendingGauge.set(count);
  }

  setSpool(bytes: number, segments: number): void {
    this.spoolBytesNow = bytes;
    this.spoolSegmentsNow = segments;
    this.spoolBytes.set(bytes);
    this.spoolSegments.set(segments);
  }

  spooled(points: number): void {
    this.totals.pointsSpooled += points;
    this.spooledPoints.inc(points);
  }

  replayed(points: number): void {
    this.totals.pointsReplayed += points;
    this.replayedPoints.inc(points);
  }

  acked(count: number): void {
    this.ackCounter.inc(count);
  }

  /** Latencies recorded since the previous call (and forgets them). */
  drainLatencies(): number[] {
    const out = this.latencies;
    this.latencies = [];
    return out;
  }
}
