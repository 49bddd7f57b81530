import { Inject, Injectable } from '@nestjs/common';
import { deadLetterMessage, deadLetterTopic, type DeadLetterInput } from '@parkpulse/telemetry';
import { INGESTION_CONFIG, type IngestionConfig } from '../config/ingestion-config.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import { MqttConsumer } from '../mqtt/mqtt-consumer.service.js';

/**
 * Publishes each dead letter on `$parkpulse/dead-letters/{original topic}` (QoS 0, JSON), for
 * whoever watches rejects live. The record of a dead letter is the `ingest_reject` point; this is
 * a notification: QoS 0, not retained, lost while the session is down, and at most
 * DEAD_LETTERS_MQTT_RATE a second — a flood of bad input must not make the ingestion a flood of
 * publishes (a broker limits each connection's publish rate, and this connection also carries the
 * PUBACKs); the excess is counted, not published.
 */
@Injectable()
export class DeadLetterPublisher {
  private tokens: number;
  private refilledAt = Date.now();

  constructor(
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    private readonly consumer: MqttConsumer,
    private readonly metrics: IngestMetrics,
  ) {
    this.tokens = config.deadLettersMqtt.perSecond;
  }

  /**
   * Called once the dead letter is stored and its message acknowledged, so that a broker that
   * refuses the publish (and hangs up) seldom costs a redelivery; see MqttConsumer.publish.
   */
  publish(letter: DeadLetterInput): void {
    if (!this.config.deadLettersMqtt.enabled) return;
    if (!this.takeToken()) {
      this.metrics.deadLettersNotPublished.inc({ cause: 'rate' });
      return;
    }
    const sent = this.consumer.publish(
      deadLetterTopic(letter.topic),
      JSON.stringify(deadLetterMessage(letter)),
    );
    if (sent) this.metrics.deadLettersPublished.inc();
    else this.metrics.deadLettersNotPublished.inc({ cause: 'unsent' });
  }

  /** Token bucket: `perSecond` tokens a second, at most `perSecond` saved up. */
  private takeToken(): boolean {
    const rate = this.config.deadLettersMqtt.perSecond;
    const now = Date.now();
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
