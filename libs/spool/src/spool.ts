import { constants } from 'node:fs';
import { mkdir, open, readFile, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock, type SpoolLock } from './lock.js';
import {
  SEGMENT_MAGIC,
  frameRecord,
  parseSegment,
  recordBytes,
  type SegmentDamage,
} from './record.js';

export interface SpoolOptions {
  /** Directory of the segment files (created when missing); one process at a time (a lock file). */
  readonly dir: string;
  /** Most bytes the segment files may take together; an append that would pass it is refused. */
  readonly maxBytes: number;
  /**
   * Size at which a segment is closed and the next one begun. Space comes back a whole segment
   * at a time (once all of it was replayed), so it should be a small share of `maxBytes`.
   * Default: an eighth of `maxBytes`, between 64 KiB and 8 MiB.
   */
  readonly segmentBytes?: number;
}

/** One segment handed out for replay: its intact records, oldest first. */
export interface SpoolSegment {
  readonly id: number;
  readonly file: string;
  /** Size of the file. */
  readonly bytes: number;
  readonly records: readonly Buffer[];
  /** Set when the tail of the file could not be read (see parseSegment). */
  readonly damage?: SegmentDamage;
}

export type AppendResult = 'appended' | 'full';

/** An append failed because the disk has no room (a short write); `code` as Node's ENOSPC. */
export class SpoolNoSpaceError extends Error {
  override readonly name = 'SpoolNoSpaceError';
  readonly code = 'ENOSPC';
}

/**
 * Whether an append (or segment creation) failed for lack of space rather than a broken disk:
 * ENOSPC, EDQUOT (quota), or a short write.
 */
export function isNoSpaceError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export type SpoolEvent = 'appended' | 'removed';

interface SegmentFile {
  readonly id: number;
  readonly file: string;
  /** Bytes on disk (acknowledged appends only). */
  bytes: number;
}

interface ActiveSegment extends SegmentFile {
  readonly handle: FileHandle;
  /** The directory entry of a new file must reach the disk too, once, before its first ack. */
  dirSynced: boolean;
}

interface PendingAppend {
  readonly payload: Buffer;
  readonly size: number;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

const SEGMENT_NAME = /^segment-(\d{12})\.spool$/;
const MIN_SEGMENT_BYTES = 64 * 1024;
const MAX_DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;

/**
 * An append-only, size-bounded spool of opaque records on local disk, in numbered segment files.
 *
 * - `append` resolves only after the record is written and `fdatasync`ed (and, for a new file,
 *   its directory entry synced): a caller may then acknowledge what the record holds. Appends
 *   that arrive while a sync is running are written together and share the next one.
 * - Appends never go to a file from an earlier process (whose tail may be torn): after `open`,
 *   every existing segment is closed for writing and only read.
 * - `oldest` hands out the oldest segment's records (closing it for appends first if it is the
 *   one being written); `remove` deletes it once the caller has stored all of them elsewhere.
 *   A crash in between hands the same records out again on the next start: consumers must be
 *   idempotent.
 */
export class Spool {
  private readonly segments: SegmentFile[] = [];
  private active: ActiveSegment | undefined;
  private nextId: number;
  private totalBytes = 0;
  /** Bytes of appends accepted but not yet on disk, so that `maxBytes` holds for them too. */
  private reservedBytes = 0;
  private queue: PendingAppend[] = [];
  private writeScheduled = false;
  /** Every change of the files runs in this chain, one at a time. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly handedOut = new Set<number>();
  private readonly listeners = new Set<(event: SpoolEvent) => void>();
  private closed = false;
  readonly segmentBytes: number;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    segmentBytes: number | undefined,
    private readonly lock: SpoolLock,
    existing: SegmentFile[],
  ) {
    this.segmentBytes =
      segmentBytes ??
      Math.min(MAX_DEFAULT_SEGMENT_BYTES, Math.max(MIN_SEGMENT_BYTES, Math.floor(maxBytes / 8)));
    for (const segment of existing) {
      this.segments.push(segment);
      this.totalBytes += segment.bytes;
    }
    this.nextId = (existing.at(-1)?.id ?? 0) + 1;
  }

  /** Opens (or creates) the spool in `dir`, taking its lock; what an earlier process left is kept. */
  static async open(options: SpoolOptions): Promise<Spool> {
    if (!(options.maxBytes > 0)) throw new RangeError('spool maxBytes must be positive');
    await mkdir(options.dir, { recursive: true });
    const lock = await acquireLock(options.dir);
    try {
      const existing: SegmentFile[] = [];
      for (const name of await readdir(options.dir)) {
        const match = SEGMENT_NAME.exec(name);
        if (!match) continue;
        const file = join(options.dir, name);
        existing.push({ id: Number(match[1]), file, bytes: (await stat(file)).size });
      }
      existing.sort((a, b) => a.id - b.id);
      return new Spool(options.dir, options.maxBytes, options.segmentBytes, lock, existing);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** Bytes the segment files take now. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Segment files now (the one being written included). */
  get segmentCount(): number {
    return this.segments.length + (this.active ? 1 : 0);
  }

  /** Nothing on disk and nothing being written. */
  get empty(): boolean {
    return this.segmentCount === 0 && this.queue.length === 0 && this.reservedBytes === 0;
  }

  /** Whether a record of `payloadBytes` would be accepted now. */
  fits(payloadBytes: number): boolean {
    // Counting a segment header too: the record may have to begin a new file.
    const needed = recordBytes(payloadBytes) + SEGMENT_MAGIC.length;
    return this.totalBytes + this.reservedBytes + needed <= this.maxBytes;
  }

  /**
   * Appends one record. Resolves `appended` once it is durable on disk, or at once with `full`
   * when it would take the spool past `maxBytes` (nothing is written then). Rejects when the
   * disk fails (the record is then not in the spool).
   */
  append(payload: Buffer): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('spool is closed'));
    if (!this.fits(payload.length)) return Promise.resolve('full');
    const size = recordBytes(payload.length);
    this.reservedBytes += size;
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ payload, size, resolve, reject });
      if (!this.writeScheduled) {
        this.writeScheduled = true;
        void this.serial(() => this.writeQueued());
      }
    });
  }

  /**
   * The oldest segment not handed out yet, with its records — or undefined when there is none.
   * When that is the segment being appended to, it is closed first (later appends begin a new
   * one), so a segment handed out never changes. Undefined once the spool is closed.
   */
  oldest(): Promise<SpoolSegment | undefined> {
    return this.serial(async () => {
      if (this.closed) return undefined;
      if (this.active && !this.segments.some((s) => !this.handedOut.has(s.id)))
        await this.closeActive();
      const segment = this.segments.find((s) => !this.handedOut.has(s.id));
      if (!segment) return undefined;
      this.handedOut.add(segment.id);
      const data = await readFile(segment.file);
      const { records, damage } = parseSegment(data);
      return {
        id: segment.id,
        file: segment.file,
        bytes: segment.bytes,
        records,
        ...(damage ? { damage } : {}),
      };
    });
  }

  /** Deletes a segment that `oldest` handed out, once everything in it is stored elsewhere. */
  remove(segment: Pick<SpoolSegment, 'id'>): Promise<void> {
    return this.serial(async () => {
      const index = this.segments.findIndex((s) => s.id === segment.id);
      if (index < 0) return;
      const [gone] = this.segments.splice(index, 1);
      this.handedOut.delete(segment.id);
      this.totalBytes -= gone!.bytes;
      await unlink(gone!.file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      this.emit('removed');
    });
  }

  /** Gives a segment back unread (its replay was interrupted): `oldest` hands it out again. */
  release(segment: Pick<SpoolSegment, 'id'>): void {
    this.handedOut.delete(segment.id);
  }

  /** Called after every durable append and every removal; returns the unsubscribe function. */
  watch(listener: (event: SpoolEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits for appends under way, closes the file being written and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.serial(async () => {
      if (this.active) await this.closeActive();
    });
    await this.lock.release();
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Writes everything queued, a segment at a time: one vectored write and one fdatasync per
   * segment touched, then the acknowledgements. On a failed write the segment is cut back to
   * its last acknowledged byte and closed, so that no later record sits behind a torn one.
   */
  private async writeQueued(): Promise<void> {
    this.writeScheduled = false;
    const batch = this.queue;
    this.queue = [];
    let i = 0;
    while (i < batch.length) {
      let segment: ActiveSegment;
      try {
        segment = await this.segmentFor(batch[i]!.size);
      } catch (error) {
        for (const pending of batch.slice(i)) this.fail(pending, error);
        return;
      }
      const group: PendingAppend[] = [];
      let end = segment.bytes === 0 ? SEGMENT_MAGIC.length : segment.bytes;
      while (
        i < batch.length &&
        (group.length === 0 || end + batch[i]!.size <= this.segmentBytes)
      ) {
        group.push(batch[i]!);
        end += batch[i]!.size;
        i++;
      }
      const buffers: Buffer[] = segment.bytes === 0 ? [SEGMENT_MAGIC] : [];
      for (const pending of group) buffers.push(...frameRecord(pending.payload));
      try {
        const { bytesWritten } = await segment.handle.writev(buffers, segment.bytes);
        if (bytesWritten !== end - segment.bytes)
          throw new SpoolNoSpaceError(
            `short write: ${bytesWritten} of ${end - segment.bytes} bytes (the disk is full)`,
          );
        await segment.handle.datasync();
        if (!segment.dirSynced) {
          await syncDirectory(this.dir);
          segment.dirSynced = true;
        }
      } catch (error) {
        for (const pending of group) this.fail(pending, error);
        await segment.handle.truncate(segment.bytes).catch(() => undefined);
        await this.closeActive().catch(() => undefined);
        continue;
      }
      this.totalBytes += end - segment.bytes;
      segment.bytes = end;
      for (const pending of group) {
        this.reservedBytes -= pending.size;
        pending.resolve('appended');
      }
      this.emit('appended');
    }
  }

  private fail(pending: PendingAppend, error: unknown): void {
    this.reservedBytes -= pending.size;
    pending.reject(error);
  }

  /** The segment the next record of `size` bytes goes to, beginning a new one when needed. */
  private async segmentFor(size: number): Promise<ActiveSegment> {
    if (this.active && this.active.bytes > 0 && this.active.bytes + size > this.segmentBytes)
      await this.closeActive();
    if (this.active) return this.active;
    const id = this.nextId++;
    const file = join(this.dir, `segment-${String(id).padStart(12, '0')}.spool`);
    // O_EXCL: a segment file is never reused, whatever an earlier process left behind.
    const handle = await open(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
    this.active = { id, file, bytes: 0, handle, dirSynced: false };
    return this.active;
  }

  /** Stops appending to the active segment: it joins the closed ones (or goes, when empty). */
  private async closeActive(): Promise<void> {
    const segment = this.active;
    if (!segment) return;
    this.active = undefined;
    await segment.handle.close();
    if (segment.bytes === 0) {
      await unlink(segment.file).catch(() => undefined);
      return;
    }
    this.segments.push({ id: segment.id, file: segment.file, bytes: segment.bytes });
  }

  private emit(event: SpoolEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

/** fsync of a directory: makes a new file's name durable (Linux; a no-op error elsewhere). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch (error) {
    // Some platforms cannot fsync a directory (EISDIR, EINVAL, EPERM); the data itself is synced.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') throw error;
  } finally {
    await handle?.close();
  }
}
