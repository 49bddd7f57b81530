/**
 * The batch of the ingest link: many device messages in one MQTT PUBLISH from the broker to an
 * ingestion instance, acknowledged with one PUBACK once every message in it is stored.
 *
 * Binary, version 1 (big-endian):
 *
 * ```
 * u8  version (1)
 * u32 message count
 * per message:
 *   f64 receivedAt   epoch ms at which the broker read the device's PUBLISH
 *   u8  flags        bits 0-1 QoS of the device's publish, bit 2 retain, bit 3 last will
 *   u16 + bytes      client id (UTF-8; empty for a will the broker publishes for a client long gone)
 *   u16 + bytes      topic (UTF-8)
 *   u32 + bytes      payload
 * ```
 *
 * Binary rather than JSON: payloads are opaque bytes (JSON, protobuf), and decoding hands out
 * views of the batch, so a 5,000-message batch costs one allocation on each side.
 */
export const BATCH_VERSION = 1;

/** One device message as the broker captured it. */
export interface LinkMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  /** A last will the broker published for its client. */
  readonly will: boolean;
  /** The publishing client's id; '' for a will published after its client was gone. */
  readonly clientId: string;
  /** Epoch ms at which the broker received it (timestamp windows are judged against this). */
  readonly receivedAt: number;
}

const HEADER = 5;
const FIXED_PER_MESSAGE = 8 + 1 + 2 + 2 + 4;
const MAX_U16 = 0xffff;

export class BatchFormatError extends Error {}

/** Bytes `encodeBatch` needs for one message (for callers that bound a batch's size). */
export function encodedSize(message: Pick<LinkMessage, 'topic' | 'payload' | 'clientId'>): number {
  return (
    FIXED_PER_MESSAGE +
    Buffer.byteLength(message.clientId) +
    Buffer.byteLength(message.topic) +
    message.payload.length
  );
}

export function encodeBatch(messages: readonly LinkMessage[]): Buffer {
  let size = HEADER;
  const texts: [Buffer, Buffer][] = [];
  for (const m of messages) {
    const clientId = Buffer.from(m.clientId);
    const topic = Buffer.from(m.topic);
    if (clientId.length > MAX_U16 || topic.length > MAX_U16)
      throw new BatchFormatError('client id and topic must be at most 65,535 bytes');
    texts.push([clientId, topic]);
    size += FIXED_PER_MESSAGE + clientId.length + topic.length + m.payload.length;
  }
  const out = Buffer.allocUnsafe(size);
  out.writeUInt8(BATCH_VERSION, 0);
  out.writeUInt32BE(messages.length, 1);
  let at = HEADER;
  messages.forEach((m, i) => {
    const [clientId, topic] = texts[i]!;
    out.writeDoubleBE(m.receivedAt, at);
    out.writeUInt8((m.qos & 3) | (m.retain ? 4 : 0) | (m.will ? 8 : 0), at + 8);
    at += 9;
    out.writeUInt16BE(clientId.length, at);
    clientId.copy(out, at + 2);
    at += 2 + clientId.length;
    out.writeUInt16BE(topic.length, at);
    topic.copy(out, at + 2);
    at += 2 + topic.length;
    out.writeUInt32BE(m.payload.length, at);
    m.payload.copy(out, at + 4);
    at += 4 + m.payload.length;
  });
  return out;
}

/**
 * The messages of a batch; payloads are views into `batch` (copy one to keep it beyond the
 * batch). Throws BatchFormatError on anything that is not a whole version-1 batch.
 */
export function decodeBatch(batch: Buffer): LinkMessage[] {
  if (batch.length < HEADER) throw new BatchFormatError('batch shorter than its header');
  const version = batch.readUInt8(0);
  if (version !== BATCH_VERSION)
    throw new BatchFormatError(`batch version ${version}; this side reads ${BATCH_VERSION}`);
  const count = batch.readUInt32BE(1);
  const messages: LinkMessage[] = [];
  let at = HEADER;
  const need = (n: number) => {
    if (at + n > batch.length) throw new BatchFormatError('batch truncated');
  };
  for (let i = 0; i < count; i++) {
    need(FIXED_PER_MESSAGE);
    const receivedAt = batch.readDoubleBE(at);
    const flags = batch.readUInt8(at + 8);
    at += 9;
    const clientIdLength = batch.readUInt16BE(at);
    need(2 + clientIdLength);
    const clientId = batch.toString('utf8', at + 2, at + 2 + clientIdLength);
    at += 2 + clientIdLength;
    need(2);
    const topicLength = batch.readUInt16BE(at);
    need(2 + topicLength);
    const topic = batch.toString('utf8', at + 2, at + 2 + topicLength);
    at += 2 + topicLength;
    need(4);
    const payloadLength = batch.readUInt32BE(at);
    need(4 + payloadLength);
    const payload = batch.subarray(at + 4, at + 4 + payloadLength);
    at += 4 + payloadLength;
    messages.push({
      topic,
      payload,
      qos: (flags & 3) as 0 | 1 | 2,
      retain: (flags & 4) !== 0,
      will: (flags & 8) !== 0,
      clientId,
      receivedAt,
    });
  }
  if (at !== batch.length) throw new BatchFormatError('bytes after the last message');
  return messages;
}
