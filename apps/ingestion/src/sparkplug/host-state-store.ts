import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SparkplugHostSnapshot } from '@parkpulse/sparkplug';

/**
 * The Sparkplug host's state in one JSON file (SPOOL_DIR/sparkplug/host.json), replaced whole
 * (write, rename). Like the ledger's state it must survive a process crash, not a power cut:
 * not fsynced.
 */
export class HostStateStore {
  constructor(private readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
  }

  /** The state a previous process left; undefined when there is none. Throws when unreadable. */
  load(): SparkplugHostSnapshot | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return JSON.parse(text) as SparkplugHostSnapshot;
  }

  save(snapshot: SparkplugHostSnapshot): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(snapshot));
    renameSync(tmp, this.file);
  }
}
