import mqtt from 'mqtt';
import { RecordingWriter } from '../recording.js';

export interface RecordOptions {
  readonly url: string;
  readonly file: string;
  readonly filter?: string;
  readonly durationMs?: number;
  readonly maxMessages?: number;
  readonly username?: string;
  readonly password?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (count: number) => void;
}

/** `record`: captures `parks/#` (or a filter) from a broker into a gzip NDJSON file. */
export async function record(options: RecordOptions): Promise<{ messages: number; file: string }> {
  const filter = options.filter ?? 'parks/#';
  const writer = new RecordingWriter(options.file, {
    startedAt: Date.now(),
    source: options.url,
    filter,
  });
  const client = await mqtt.connectAsync(options.url, {
    // A service account's client id starts with its id (the broker's rule).
    clientId: `${options.username ?? 'park-sim'}-recorder-${process.pid}-${Date.now() % 100_000}`,
    clean: true,
    ...(options.username ? { username: options.username, password: options.password ?? '' } : {}),
  });
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  client.on('message', (topic, payload, packet) => {
    if (packet.retain) return; // state replayed on subscribe, not traffic
    writer.write(Date.now(), topic, payload);
    if (options.maxMessages !== undefined && writer.count >= options.maxMessages) stop();
  });
  await client.subscribeAsync(filter, { qos: 1 });
  const timer = options.durationMs !== undefined ? setTimeout(stop, options.durationMs) : undefined;
  options.signal?.addEventListener('abort', stop);
  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.(writer.count), 1000)
    : undefined;
  await stopped;
  clearTimeout(timer);
  clearInterval(progress);
  await client.endAsync();
  await writer.close();
  return { messages: writer.count, file: options.file };
}
