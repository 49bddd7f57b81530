import type { RejectReason } from './errors.js';

/**
 * Dead letters are also published on `$parkpulse/dead-letters/{original topic}`. The `$` keeps
 * them out of `#` and `parks/#` subscriptions ([MQTT-4.7.2-1]: a filter starting with a wildcard
 * does not match a topic starting with `$`), so only those who ask for them see them.
 */
export const DEAD_LETTER_TOPIC_ROOT = '$parkpulse/dead-letters';

/** Most bytes of the rejected payload a dead letter carries. */
export const DEAD_LETTER_PAYLOAD_BYTES = 4096;

/** Most levels and bytes of the original topic in a dead letter's topic (the payload has all of it). */
const MAX_TOPIC_LEVELS = 64;
const MAX_TOPIC_BYTES = 1024;

export interface DeadLetterInput {
  readonly reason: RejectReason;
  readonly detail: string;
  /** The topic the message arrived on. */
  readonly topic: string;
  /** When the ingestion received it (epoch ms). */
  readonly receivedAt: number;
  /** The payload as received; absent when it is no longer at hand. */
  readonly payload?: Uint8Array;
}

/** What a dead letter's payload holds (JSON). */
export interface DeadLetterMessage {
  readonly reason: RejectReason;
  readonly detail: string;
  readonly topic: string;
  /** RFC 3339, and the same instant in epoch ms. */
  readonly receivedAt: string;
  readonly receivedAtMs: number;
  /** Size of the original payload; the fields below are absent when it was not at hand. */
  readonly payloadBytes?: number;
  /** `utf8` when the carried bytes are valid UTF-8 (then `payload` is that text), else `base64`. */
  readonly payloadEncoding?: 'utf8' | 'base64';
  /** The first DEAD_LETTER_PAYLOAD_BYTES bytes of the original payload. */
  readonly payload?: string;
  readonly payloadTruncated?: boolean;
}

/**
 * `$parkpulse/dead-letters/{original topic}`. The original is cut to 64 levels and 1,024 bytes:
 * a broker refuses a topic over its level limit (Aedes: 100) by closing the connection, and the
 * prefix adds two levels.
 */
export function deadLetterTopic(original: string): string {
  let topic = original.split('/').slice(0, MAX_TOPIC_LEVELS).join('/');
  if (Buffer.byteLength(topic) > MAX_TOPIC_BYTES) {
    // Cut on a character boundary: a topic must be valid UTF-8.
    const bytes = Buffer.from(topic).subarray(0, MAX_TOPIC_BYTES);
    topic = new TextDecoder('utf-8').decode(bytes, { stream: true });
  }
  return `${DEAD_LETTER_TOPIC_ROOT}/${topic}`;
}

/** The JSON payload of a dead letter (see DeadLetterMessage). */
export function deadLetterMessage(
  input: DeadLetterInput,
  maxPayloadBytes = DEAD_LETTER_PAYLOAD_BYTES,
): DeadLetterMessage {
  const message: DeadLetterMessage = {
    reason: input.reason,
    detail: input.detail,
    topic: input.topic,
    receivedAt: new Date(input.receivedAt).toISOString(),
    receivedAtMs: input.receivedAt,
  };
  if (!input.payload) return message;
  const truncated = input.payload.length > maxPayloadBytes;
  const carried = input.payload.subarray(0, maxPayloadBytes);
  let text: string | undefined;
  try {
    // `stream` when cut: a character split by the cut is not an encoding error.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(carried, {
      stream: truncated,
    });
  } catch {
    text = undefined;
  }
  return {
    ...message,
    payloadBytes: input.payload.length,
    payloadEncoding: text === undefined ? 'base64' : 'utf8',
    payload: text ?? Buffer.from(carried).toString('base64'),
    payloadTruncated: truncated,
  };
}
