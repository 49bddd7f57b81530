import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';

/** The first line of a recording. */
export interface RecordingHeader {
  readonly format: 'parkpulse-recording/1';
  readonly startedAt: number;
  readonly source: string;
  readonly filter: string;
}

/** One captured message: receive time, topic, payload (UTF-8 text, or base64 in `b64`). */
export interface RecordedMessage {
  readonly t: number;
  readonly topic: string;
  readonly payload?: string;
  readonly b64?: string;
}

export const RECORDING_FORMAT = 'parkpulse-recording/1';

/** Gzip-compressed NDJSON: a header line, then one line per message. */
export class RecordingWriter {
  private readonly gzip = createGzip();
  private readonly done: Promise<void>;
  count = 0;

  constructor(path: string, header: Omit<RecordingHeader, 'format'>) {
    const out = createWriteStream(path);
    this.gzip.pipe(out);
    this.done = new Promise((resolve, reject) => {
      out.once('finish', () => resolve());
      out.once('error', reject);
    });
    this.gzip.write(`${JSON.stringify({ format: RECORDING_FORMAT, ...header })}\n`);
  }

  write(t: number, topic: string, payload: Buffer): void {
    const text = payload.toString('utf8');
    const line: RecordedMessage = Buffer.from(text, 'utf8').equals(payload)
      ? { t, topic, payload: text }
      : { t, topic, b64: payload.toString('base64') };
    this.gzip.write(`${JSON.stringify(line)}\n`);
    this.count++;
  }

  async close(): Promise<void> {
    this.gzip.end();
    await this.done;
  }
}

export async function readRecording(
  path: string,
): Promise<{ header: RecordingHeader; messages: RecordedMessage[] }> {
  const lines = createInterface({
    input: createReadStream(path).pipe(createGunzip()),
    crlfDelay: Infinity,
  });
  let header: RecordingHeader | undefined;
  const messages: RecordedMessage[] = [];
  for await (const line of lines) {
    if (!line) continue;
    const doc = JSON.parse(line) as RecordingHeader | RecordedMessage;
    if (!header) {
      if ((doc as RecordingHeader).format !== RECORDING_FORMAT)
        throw new Error(`${path} is not a ParkPulse recording (${String(RECORDING_FORMAT)})`);
      header = doc as RecordingHeader;
      continue;
    }
    messages.push(doc as RecordedMessage);
  }
  if (!header) throw new Error(`${path} is empty`);
  return { header, messages };
}

export function payloadOf(message: RecordedMessage): Buffer {
  return message.b64 !== undefined
    ? Buffer.from(message.b64, 'base64')
    : Buffer.from(message.payload ?? '', 'utf8');
}
