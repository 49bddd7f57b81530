import { SimDevice } from '../device.js';
import { payloadOf, readRecording, type RecordedMessage } from '../recording.js';
import { summarise, type RunReport } from '../report.js';
import { createRng } from '../rng.js';
import { loginOf, settle, sleep } from './connect.js';

export interface ReplayOptions {
  readonly url: string;
  readonly file: string;
  /** Replay speed: 10 = ten times faster than recorded. */
  readonly speed?: number;
  /** Copies of every device (`-c1`, `-c2`… appended to the device id); 1 = the recording as is. */
  readonly clones?: number;
  /** Times the recording is played in a row. */
  readonly loops?: number;
  /**
   * Added to every timestamp in the payloads, ms. Default: re-stamped to now — the last message of
   * the last loop lands on the moment it is sent, so no timestamp is ever in the future.
   */
  readonly shiftMs?: number;
  readonly groupKey?: string;
  readonly username?: string;
  readonly password?: string;
  readonly onProgress?: (report: RunReport, progress: number) => void;
  readonly signal?: AbortSignal;
}

interface Parsed {
  readonly message: RecordedMessage;
  readonly deviceId?: string;
  readonly prefix?: string;
  readonly rest?: string;
  readonly json?: Record<string, unknown>;
  readonly samples: number;
}

/**
 * `replay`: a recording played again at N× speed, timestamps shifted (to now by default), cloned
 * to M× devices, looped L times. Each (cloned) device has its own connection; a clone's device
 * id is the original's with `-c{k}`.
 */
export async function replay(
  options: ReplayOptions,
): Promise<RunReport & { readonly shiftMs: number }> {
  const speed = options.speed ?? 1;
  const clones = options.clones ?? 1;
  const loops = options.loops ?? 1;
  const { messages } = await readRecording(options.file);
  if (messages.length === 0) throw new Error(`${options.file} holds no messages`);
  const parsed = messages.map(parse);
  const t0 = messages[0]!.t;
  const span = Math.max(1, messages[messages.length - 1]!.t - t0 + 1);
  const started = Date.now();
  const realSpan = (span * loops) / speed;
  if (!(speed > 0)) throw new Error('speed must be > 0');
  // Faster than recorded: the last message lands on the moment it is sent; slower: the first
  // does. Either way no timestamp is ahead of the moment its message is sent.
  const shiftMs =
    options.shiftMs ??
    (speed >= 1 ? Math.round(started + realSpan - (t0 + span * loops)) : started - t0);

  // One connection per (device, clone).
  const latencies: number[] = [];
  const rng = createRng(0x4e91a7);
  const devices = new Map<string, SimDevice>();
  for (const p of parsed) {
    if (!p.deviceId) continue;
    for (let c = 0; c < clones; c++) {
      const id = cloneId(p.deviceId, c);
      if (devices.has(id)) continue;
      const [, park = '', site = '', assetType = ''] = p.prefix!.split('/');
      devices.set(
        id,
        new SimDevice(
          { park, site, assetType, deviceId: id },
          {
            url: options.url,
            rng,
            latencies,
            ...loginOf(id, options),
          },
        ),
      );
    }
  }
  const all = [...devices.values()];
  for (let i = 0; i < all.length; i += 50)
    await Promise.all(all.slice(i, i + 50).map((d) => d.connect()));

  const begun = performance.now();
  const report = () => summarise('replay', all, latencies, (performance.now() - begun) / 1000);
  const progress = options.onProgress
    ? setInterval(
        () => options.onProgress?.(report(), Math.min(1, (performance.now() - begun) / realSpan)),
        1000,
      )
    : undefined;
  try {
    for (let loop = 0; loop < loops && !options.signal?.aborted; loop++) {
      const loopShift = shiftMs + loop * span;
      for (const p of parsed) {
        if (options.signal?.aborted) break;
        const due = (p.message.t - t0 + loop * span) / speed - (performance.now() - begun);
        if (due > 1) await sleep(due);
        if (!p.deviceId) continue; // not a device topic: nothing to replay it as
        for (let c = 0; c < clones; c++) {
          const id = cloneId(p.deviceId, c);
          const topic = `${p.prefix}/${id}/${p.rest}`;
          const payload = p.json
            ? JSON.stringify(restamp(p.json, loopShift))
            : payloadOf(p.message);
          void devices.get(id)!.sendRaw(topic, payload, p.samples);
        }
      }
    }
    await settle(all, 60_000);
  } finally {
    clearInterval(progress);
    await Promise.all(all.map((d) => d.close()));
  }
  return { ...report(), shiftMs };
}

function parse(message: RecordedMessage): Parsed {
  const parts = message.topic.split('/');
  if (parts.length !== 6 || parts[0] !== 'parks') return { message, samples: 0 };
  const base = {
    message,
    deviceId: parts[4]!,
    prefix: parts.slice(0, 4).join('/'),
    rest: parts[5]!,
  };
  if (message.payload === undefined) return { ...base, samples: 0 };
  let json: unknown;
  try {
    json = JSON.parse(message.payload);
  } catch {
    return { ...base, samples: 0 };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { ...base, samples: 0 };
  const doc = json as Record<string, unknown>;
  const samples =
    parts[5] !== 'telemetry'
      ? 0
      : Array.isArray(doc['samples'])
        ? doc['samples'].length
        : 'metrics' in doc
          ? 1
          : 0;
  return { ...base, json: doc, samples };
}

/** The same document with every `ts` (top level and in `samples`) moved by `shift` ms. */
export function restamp(doc: Record<string, unknown>, shift: number): Record<string, unknown> {
  const move = (ts: unknown): unknown =>
    typeof ts === 'number'
      ? ts + shift
      : typeof ts === 'string' && !Number.isNaN(Date.parse(ts))
        ? Date.parse(ts) + shift
        : ts;
  const out: Record<string, unknown> = { ...doc };
  if ('ts' in out) out['ts'] = move(out['ts']);
  if (Array.isArray(out['samples'])) {
    out['samples'] = (out['samples'] as unknown[]).map((s) =>
      typeof s === 'object' && s !== null && 'ts' in s
        ? { ...(s as object), ts: move((s as Record<string, unknown>)['ts']) }
        : s,
    );
  }
  return out;
}

function cloneId(deviceId: string, clone: number): string {
  if (clone === 0) return deviceId;
  const suffix = `-c${clone}`;
  return `${deviceId.slice(0, 64 - suffix.length)}${suffix}`;
}
