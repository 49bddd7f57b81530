import { open, readFile, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'LOCK';

/** Lock files this process holds (or is taking). */
const heldHere = new Set<string>();

/** Another live process holds the spool directory. */
export class SpoolLockedError extends Error {
  override readonly name = 'SpoolLockedError';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `spool directory ${dir} is in use by process ${pid}; every process needs a directory of its own`,
    );
  }
}

export interface SpoolLock {
  release(): Promise<void>;
}

/**
 * Takes the directory's lock file (holding our pid). Two writers appending to one spool would
 * interleave records and replay each other's data, so a second process is refused while the
 * first is alive. A lock left by a process that died (a crash, SIGKILL) is taken over.
 */
export async function acquireLock(dir: string): Promise<SpoolLock> {
  const file = join(resolve(dir), LOCK_FILE);
  // A second open in this process: the pid in the file cannot tell it from a stale lock.
  if (heldHere.has(file)) throw new SpoolLockedError(dir, process.pid);
  heldHere.add(file);
  try {
    await takeLockFile(dir, file);
  } catch (error) {
    heldHere.delete(file);
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(file);
      await unlink(file).catch(() => undefined);
    },
  };
}

async function takeLockFile(dir: string, file: string): Promise<void> {
  try {
    const handle = await open(file, 'wx');
    try {
      await handle.writeFile(`${process.pid}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const owner = Number.parseInt((await readFile(file, 'utf8').catch(() => '')).trim(), 10);
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner))
    throw new SpoolLockedError(dir, owner);
  // Stale — its process is gone, or it carries our own pid, which after a restart in a container
  // is common — or unreadable (a crash while writing it): ours now.
  await writeFile(file, `${process.pid}\n`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
