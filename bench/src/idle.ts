import { readFileSync } from 'node:fs';
import { BenchClient } from './loadgen.js';
import { memory } from './procstat.js';
import { startAedes } from './relay.js';

/** Connections opened at once. */
export const CONNECT_WAVE = 200;

/**
 * File descriptors this process needs beyond one per connection (stdio, the broker's pipes, the
 * health checks, Node's own). The broker needs about as many: one per accepted connection.
 */
const FD_HEADROOM = 256;

const MB = 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The soft "Max open files" limit in the text of /proc/<pid>/limits (Infinity if unlimited). */
export function parseOpenFilesLimit(text: string): number {
  const match = /^Max open files\s+(\S+)/m.exec(text);
  if (!match?.[1]) throw new Error('no "Max open files" line in the limits');
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

/**
 * Fails early, with the fix, when `connections` sockets would exceed `ulimit -n`. Node cannot
 * raise its own limit, and the broker (our child) inherits it. On the bench machine (2 cores)
 * `ulimit -n` is 20000 (soft = hard), enough for 10,000 connections on each side; the common
 * default of 1024 is not, and the connections would fail midway with EMFILE.
 */
export function assertFileDescriptors(connections: number): void {
  const limit = parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
  const needed = connections + FD_HEADROOM;
  if (needed > limit)
    throw new Error(
      `${connections} connections need about ${needed} file descriptors but ulimit -n is ${limit}: ` +
        'raise it in the shell that runs the bench (ulimit -n 65536) and run it again',
    );
}

/** The broker's memory with `connections` idle device connections. */
export interface IdleResult {
  readonly connections: number;
  /** Broker RSS before the first connection, MiB. */
  readonly rssBeforeMB: number;
  /** Broker RSS with all connections open, after they settled, MiB. */
  readonly rssAfterMB: number;
  /** (after − before) / connections, KiB. */
  readonly perConnectionKB: number;
  /** The broker's RSS high-water mark (VmHWM) over its life, MiB. */
  readonly peakRssMB: number;
  /** Seconds to open all connections (CONNECT to CONNACK, in waves of 200). */
  readonly connectS: number;
}

export interface IdleOptions {
  /** Repository root, for `apps/broker/dist/main.js`. */
  readonly root: string;
  /** Idle device connections; 10,000 when omitted. */
  readonly connections?: number;
  /** How long the connections stay idle before the broker's memory is read, ms; 5 s by default. */
  readonly settleMs?: number;
}

/** Opens `count` connections in waves of {@link CONNECT_WAVE}, into `clients` (for clean-up). */
async function connectAll(
  clients: BenchClient[],
  count: number,
  host: string,
  port: number,
): Promise<void> {
  for (let i = 0; i < count; i += CONNECT_WAVE) {
    const wave = Array.from(
      { length: Math.min(CONNECT_WAVE, count - i) },
      (_, k) => new BenchClient(`bench-idle-${process.pid}-${i + k}`, host, port),
    );
    clients.push(...wave);
    await Promise.all(wave.map((c) => c.connect()));
  }
}

/** DISCONNECTs every client, then destroys what is still open a moment later. */
async function closeAll(clients: readonly BenchClient[]): Promise<void> {
  for (const c of clients) c.close();
  await sleep(500);
  for (const c of clients) c.destroy();
}

/**
 * Idle devices: the Aedes broker's memory before and with `connections` open connections (clean
 * session, keep-alive 0, nothing published), opened from this process in waves of 200.
 */
export async function idleConnections(options: IdleOptions): Promise<IdleResult> {
  const connections = options.connections ?? 10_000;
  if (!Number.isInteger(connections) || connections < 1)
    throw new Error(`connections must be a positive integer, not ${connections}`);
  assertFileDescriptors(connections);
  const broker = await startAedes(options.root);
  const clients: BenchClient[] = [];
  try {
    await sleep(1_000); // let the start-up settle
    const before = memory(broker.pid);
    const started = performance.now();
    await connectAll(clients, connections, broker.host, broker.port);
    const connectS = (performance.now() - started) / 1000;
    await sleep(options.settleMs ?? 5_000);
    const after = memory(broker.pid);
    return {
      connections,
      rssBeforeMB: before.rssBytes / MB,
      rssAfterMB: after.rssBytes / MB,
      perConnectionKB: (after.rssBytes - before.rssBytes) / connections / 1024,
      peakRssMB: after.hwmBytes / MB,
      connectS,
    };
  } finally {
    await closeAll(clients);
    await broker.stop();
  }
}
