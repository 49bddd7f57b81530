import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_TOPIC_ROOT, deadLetterMessage, deadLetterTopic } from './dead-letter.js';

const at = Date.UTC(2025, 10, 24, 12, 0, 0, 123);

describe('dead letters on MQTT', () => {
  it('publishes under $parkpulse/dead-letters/{original topic}', () => {
    expect(deadLetterTopic('parks/science-city/f1/cnc_machine/cnc-1/telemetry')).toBe(
      '$parkpulse/dead-letters/parks/science-city/f1/cnc_machine/cnc-1/telemetry',
    );
    expect(deadLetterTopic('/odd//topic')).toBe(`${DEAD_LETTER_TOPIC_ROOT}//odd//topic`);
  });

  it('cuts a topic with too many levels or bytes, on a character boundary', () => {
    const deep = Array.from({ length: 100 }, (_, i) => `l${i}`).join('/');
    expect(deadLetterTopic(deep).split('/')).toHaveLength(2 + 64);
    const long = 'parks/' + '设'.repeat(1000);
    const topic = deadLetterTopic(long);
    expect(Buffer.byteLength(topic)).toBeLessThanOrEqual(DEAD_LETTER_TOPIC_ROOT.length + 1 + 1024);
    expect(topic).not.toContain('\ufffd');
  });

  it('carries a UTF-8 payload as text', () => {
    expect(
      deadLetterMessage({
        reason: 'payload_not_json',
        detail: 'Unexpected token',
        topic: 't/1',
        receivedAt: at,
        payload: Buffer.from('spindle_rpm=1 ✓'),
      }),
    ).toEqual({
      reason: 'payload_not_json',
      detail: 'Unexpected token',
      topic: 't/1',
      receivedAt: '2025-11-24T12:00:00.123Z',
      receivedAtMs: at,
      payloadBytes: 17,
      payloadEncoding: 'utf8',
      payload: 'spindle_rpm=1 ✓',
      payloadTruncated: false,
    });
  });

  it('carries other bytes as base64', () => {
    const m = deadLetterMessage({
      reason: 'payload_not_utf8',
      detail: 'x',
      topic: 't',
      receivedAt: at,
      payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    });
    expect(m).toMatchObject({ payloadEncoding: 'base64', payload: 'e//+fQ==', payloadBytes: 4 });
    // an incomplete character at the very end of an uncut payload is not valid UTF-8 either
    const cut = Buffer.from('ab✓').subarray(0, 4);
    expect(
      deadLetterMessage({
        reason: 'payload_not_utf8',
        detail: '',
        topic: 't',
        receivedAt: at,
        payload: cut,
      }).payloadEncoding,
    ).toBe('base64');
  });

  it('truncates a large payload, without calling a split character an encoding error', () => {
    const payload = Buffer.from('✓'.repeat(3000)); // 9,000 bytes; 4,096 is not a multiple of 3
    const m = deadLetterMessage({
      reason: 'payload_too_large',
      detail: '',
      topic: 't',
      receivedAt: at,
      payload,
    });
    expect(m.payloadTruncated).toBe(true);
    expect(m.payloadBytes).toBe(9000);
    expect(m.payloadEncoding).toBe('utf8');
    expect(m.payload).toBe('✓'.repeat(1365));
  });

  it('leaves the payload out when it is not at hand', () => {
    const m = deadLetterMessage({
      reason: 'storage_rejected',
      detail: 'd',
      topic: 't',
      receivedAt: at,
    });
    expect(m).not.toHaveProperty('payload');
    expect(m).not.toHaveProperty('payloadBytes');
  });
});
