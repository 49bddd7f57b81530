import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, SpoolLockedError } from './lock.js';
import { SEGMENT_MAGIC, recordBytes } from './record.js';
import { Spool } from './spool.js';

let dir: string;
const open: Spool[] = [];

async function openSpool(maxBytes = 1 << 20, segmentBytes?: number): Promise<Spool> {
  const spool = await Spool.open({ dir, maxBytes, ...(segmentBytes ? { segmentBytes } : {}) });
  open.push(spool);
  return spool;
}

const text = (records: readonly Buffer[]) => records.map((r) => r.toString());
const segmentFiles = async () => (await readdir(dir)).filter((f) => f.endsWith('.spool')).sort();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parkpulse-spool-'));
});

afterEach(async () => {
  for (const spool of open.splice(0)) await spool.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Spool', () => {
  it('appends durably, hands out the oldest segment, and is empty once it is removed', async () => {
    const spool = await openSpool();
    expect(spool.empty).toBe(true);
    expect(await spool.append(Buffer.from('a'))).toBe('appended');
    expect(await spool.append(Buffer.from('b'))).toBe('appended');
    expect(spool.bytes).toBe(SEGMENT_MAGIC.length + recordBytes(1) * 2);
    expect(spool.segmentCount).toBe(1);
    const segment = await spool.oldest();
    expect(text(segment!.records)).toEqual(['a', 'b']);
    expect(await spool.oldest()).toBeUndefined(); // handed out already
    await spool.remove(segment!);
    expect(spool.bytes).toBe(0);
    expect(spool.segmentCount).toBe(0);
    expect(spool.empty).toBe(true);
    expect(await segmentFiles()).toEqual([]);
  });

  it('keeps the order of concurrent appends, which share one sync', async () => {
    const spool = await openSpool();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => spool.append(Buffer.from(String(i)))),
    );
    expect(new Set(results)).toEqual(new Set(['appended']));
    const segment = await spool.oldest();
    expect(text(segment!.records)).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });

  it('rolls over to a new segment file at segmentBytes and hands them out oldest first', async () => {
    const spool = await openSpool(1 << 20, 100);
    for (let i = 0; i < 10; i++) await spool.append(Buffer.alloc(30, 97 + i));
    expect(spool.segmentCount).toBeGreaterThan(3);
    const seen: string[] = [];
    for (let segment = await spool.oldest(); segment; segment = await spool.oldest()) {
      seen.push(...text(segment.records).map((r) => r[0]!));
      await spool.remove(segment);
    }
    expect(seen.join('')).toBe('abcdefghij');
    expect(spool.bytes).toBe(0);
  });

  it('new appends begin a new segment once the one being written was handed out', async () => {
    const spool = await openSpool();
    await spool.append(Buffer.from('old'));
    const first = await spool.oldest();
    await spool.append(Buffer.from('new'));
    expect(spool.segmentCount).toBe(2);
    expect(text(first!.records)).toEqual(['old']);
    await spool.remove(first!);
    const second = await spool.oldest();
    expect(text(second!.records)).toEqual(['new']);
  });

  it('refuses an append that would pass maxBytes, and takes it again once space is freed', async () => {
    const record = Buffer.alloc(100);
    const maxBytes = SEGMENT_MAGIC.length + recordBytes(100) * 3 + SEGMENT_MAGIC.length;
    const spool = await openSpool(maxBytes, 1 << 20);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await spool.append(record));
    expect(results).toEqual(['appended', 'appended', 'appended', 'full']);
    expect(spool.bytes).toBeLessThanOrEqual(maxBytes);
    expect(spool.fits(100)).toBe(false);
    const segment = await spool.oldest();
    await spool.remove(segment!);
    expect(spool.fits(100)).toBe(true);
    expect(await spool.append(record)).toBe('appended');
  });

  it('counts appends under way against maxBytes', async () => {
    const maxBytes = SEGMENT_MAGIC.length * 2 + recordBytes(100) * 2;
    const spool = await openSpool(maxBytes);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => spool.append(Buffer.alloc(100))),
    );
    expect(results).toEqual(['appended', 'appended', 'full', 'full', 'full']);
  });

  it('keeps everything across a restart, and never appends to an old file', async () => {
    const first = await openSpool();
    await first.append(Buffer.from('before'));
    await first.close();
    open.length = 0;
    const second = await openSpool();
    expect(second.bytes).toBeGreaterThan(0);
    expect(second.segmentCount).toBe(1);
    await second.append(Buffer.from('after'));
    expect(await segmentFiles()).toHaveLength(2);
    const a = await second.oldest();
    const b = await second.oldest();
    expect([...text(a!.records), ...text(b!.records)]).toEqual(['before', 'after']);
  });

  it('skips a torn last record after a crash mid-append, and reads the rest', async () => {
    const first = await openSpool();
    await first.append(Buffer.from('kept-1'));
    await first.append(Buffer.from('kept-2'));
    await first.close();
    open.length = 0;
    const [file] = await segmentFiles();
    // What a crash in the middle of the next append leaves: a header and half a payload.
    const header = Buffer.alloc(8);
    header.writeUInt32LE(1000, 0);
    await appendFile(join(dir, file!), Buffer.concat([header, Buffer.alloc(300, 120)]));
    const second = await openSpool();
    const segment = await second.oldest();
    expect(text(segment!.records)).toEqual(['kept-1', 'kept-2']);
    expect(segment!.damage).toMatchObject({ kind: 'truncated', bytesSkipped: 308 });
    await second.remove(segment!);
    expect(second.bytes).toBe(0);
  });

  it('hands out a file cut inside its header as an empty, damaged segment', async () => {
    await writeFile(join(dir, 'segment-000000000007.spool'), SEGMENT_MAGIC.subarray(0, 5));
    await writeFile(join(dir, 'segment-000000000008.spool'), Buffer.alloc(0));
    const spool = await openSpool();
    const a = await spool.oldest();
    expect(a).toMatchObject({ id: 7, records: [], damage: { kind: 'header' } });
    const b = await spool.oldest();
    expect(b).toMatchObject({ id: 8, records: [] });
    expect(b!.damage).toBeUndefined();
    await spool.append(Buffer.from('x'));
    expect(await segmentFiles()).toContain('segment-000000000009.spool');
  });

  it('a record cut inside a previous segment does not hide later segments', async () => {
    const first = await openSpool(1 << 20, 64);
    for (const p of ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'bbbb', 'cccc'])
      await first.append(Buffer.from(p));
    await first.close();
    open.length = 0;
    const files = await segmentFiles();
    expect(files).toHaveLength(2); // [a…] and [bbbb, cccc]
    await truncate(join(dir, files[0]!), SEGMENT_MAGIC.length + 10);
    const spool = await openSpool();
    const records: string[] = [];
    for (let s = await spool.oldest(); s; s = await spool.oldest()) {
      records.push(...text(s.records));
      await spool.remove(s);
    }
    expect(records).toEqual(['bbbb', 'cccc']);
  });

  it('gives a handed-out segment back with release', async () => {
    const spool = await openSpool();
    await spool.append(Buffer.from('x'));
    const segment = await spool.oldest();
    spool.release(segment!);
    expect((await spool.oldest())?.id).toBe(segment!.id);
  });

  it('tells watchers about appends and removals', async () => {
    const spool = await openSpool();
    const events: string[] = [];
    const stop = spool.watch((e) => events.push(e));
    await spool.append(Buffer.from('x'));
    await spool.remove((await spool.oldest())!);
    stop();
    await spool.append(Buffer.from('y'));
    expect(events).toEqual(['appended', 'removed']);
  });

  describe('lock', () => {
    it('refuses a second open of the same directory', async () => {
      await openSpool();
      await expect(Spool.open({ dir, maxBytes: 1000 })).rejects.toBeInstanceOf(SpoolLockedError);
    });

    it('refuses a directory locked by another live process', async () => {
      await writeFile(join(dir, LOCK_FILE), `${process.ppid}\n`);
      await expect(Spool.open({ dir, maxBytes: 1000 })).rejects.toThrow(/in use by process/);
    });

    it('takes over the lock of a process that died', async () => {
      const dead = spawnSync(process.execPath, ['-e', '0']).pid;
      await writeFile(join(dir, LOCK_FILE), `${dead}\n`);
      const spool = await openSpool();
      expect(await spool.append(Buffer.from('x'))).toBe('appended');
    });

    it('releases the lock on close', async () => {
      const spool = await openSpool();
      await spool.close();
      open.length = 0;
      expect(await readdir(dir)).not.toContain(LOCK_FILE);
      await openSpool();
    });
  });
});
