import { describe, expect, it } from 'vitest';
import { loadIngestionConfig } from '../config/ingestion-config.js';
import { IngestMetrics } from '../metrics/ingest-metrics.service.js';
import type { MqttConsumer } from '../mqtt/mqtt-consumer.service.js';
import { DeadLetterPublisher } from './dead-letter.publisher.js';

function publisher(env: Record<string, string> = {}) {
  const sent: { topic: string; payload: string }[] = [];
  const consumer = {
    connected: true,
    publish(topic: string, payload: string) {
      if (!this.connected) return false;
      sent.push({ topic, payload });
      return true;
    },
  };
  const metrics = new IngestMetrics();
  const p = new DeadLetterPublisher(
    loadIngestionConfig(env),
    consumer as unknown as MqttConsumer,
    metrics,
  );
  return { p, sent, consumer, metrics };
}

const letter = (i: number) => ({
  reason: 'payload_not_json' as const,
  detail: 'Unexpected token',
  topic: `parks/science-city/f1/cnc_machine/cnc-${i}/telemetry`,
  receivedAt: 1764000000000,
  payload: Buffer.from('x=1'),
});

describe('DeadLetterPublisher', () => {
  it('publishes the JSON dead letter under $parkpulse/dead-letters/{topic}', () => {
    const { p, sent } = publisher();
    p.publish(letter(1));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.topic).toBe(
      '$parkpulse/dead-letters/parks/science-city/f1/cnc_machine/cnc-1/telemetry',
    );
    expect(JSON.parse(sent[0]!.payload)).toMatchObject({
      reason: 'payload_not_json',
      payload: 'x=1',
      payloadEncoding: 'utf8',
    });
  });

  it('publishes at most DEAD_LETTERS_MQTT_RATE a second, and counts the rest', async () => {
    const { p, sent, metrics } = publisher({ DEAD_LETTERS_MQTT_RATE: '20' });
    for (let i = 0; i < 50; i++) p.publish(letter(i));
    expect(sent.length).toBeGreaterThanOrEqual(20);
    expect(sent.length).toBeLessThan(25);
    const counted = await metrics.registry.getSingleMetricAsString(
      'parkpulse_ingest_dead_letters_not_published_total',
    );
    expect(counted).toContain(`{cause="rate"} ${50 - sent.length}`);
  });

  it('publishes nothing when turned off or without a session', () => {
    const off = publisher({ DEAD_LETTERS_MQTT: 'false' });
    off.p.publish(letter(1));
    expect(off.sent).toEqual([]);
    const down = publisher();
    down.consumer.connected = false;
    down.p.publish(letter(1));
    expect(down.sent).toEqual([]);
  });
});
