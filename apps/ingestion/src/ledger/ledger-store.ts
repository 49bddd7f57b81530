import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { LedgerSnapshot } from '@parkpulse/telemetry';

/** One journal line: what happened to one device's samples since the snapshot. */
export interface JournalEntry {
  /** record (stored), confirm (replayed), regressed (refused for its clock). */
  readonly k: 'r' | 'c' | 'x';
  /** The device's telemetry topic. */
  readonly t: string;
  /** `[seq, ts]` of each sample (`seq` null when the sample had none). */
  readonly s: readonly (readonly [number | null, number])[];
  /** Stored at (ms), for `r`. */
  readonly at?: number;
}

export interface LoadedLedger {
  readonly snapshot: LedgerSnapshot | undefined;
  readonly journal: readonly JournalEntry[];
  /** What could not be read (a torn last line, a damaged snapshot), for the log. */
  readonly problems: readonly string[];
}

const SNAPSHOT = 'ledger.json';
const JOURNAL = /^ledger-journal-(\d+)\.jsonl$/;

/**
 * The delivery ledger's state on disk, beside the spool (whose lock makes it this process's):
 * a snapshot (`ledger.json`, replaced by rename) plus a journal of what happened since
 * (`ledger-journal-<generation>.jsonl`), appended with one `write` per stored message *before*
 * the message is acknowledged. A process killed at any point loses nothing of it (the kernel
 * has the bytes); compaction writes a new snapshot naming a new journal generation, so a crash
 * in the middle replays neither too much nor too little. Not fsynced: the ledger's figures need
 * to survive a process crash, not a power cut (the spool's data is fsynced).
 *
 * Writes are synchronous on purpose: a journal line must be in the kernel before the ack that
 * follows it, and the whole compaction must happen between two stored messages.
 */
export class LedgerStore {
  private fd: number | undefined;
  private generation = 0;
  /** A write failed part-way: the next line starts on a new line, so only the torn one is lost. */
  private torn = false;

  constructor(private readonly dir: string) {}

  /** Reads what an earlier process left (nothing when it left nothing). */
  load(): LoadedLedger {
    mkdirSync(this.dir, { recursive: true });
    const problems: string[] = [];
    let snapshot: (LedgerSnapshot & { generation?: number }) | undefined;
    try {
      const parsed = JSON.parse(readFileSync(join(this.dir, SNAPSHOT), 'utf8')) as unknown;
      const s = parsed as Partial<LedgerSnapshot & { generation: number }> | null;
      if (s && s.v === 1 && Array.isArray(s.devices)) snapshot = s as LedgerSnapshot;
      else problems.push(`${SNAPSHOT} is not a version 1 ledger snapshot`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        problems.push(`${SNAPSHOT} unreadable: ${(error as Error).message}`);
    }
    const journals = readdirSync(this.dir)
      .map((name) => ({ name, match: JOURNAL.exec(name) }))
      .filter((j) => j.match)
      .map((j) => ({ name: j.name, generation: Number(j.match![1]) }));
    // Without a snapshot, the newest journal alone is what there is.
    const wanted = snapshot?.generation ?? Math.max(0, ...journals.map((j) => j.generation));
    this.generation = Math.max(wanted, ...journals.map((j) => j.generation));
    const journal: JournalEntry[] = [];
    const file = journals.find((j) => j.generation === wanted);
    if (file) {
      const lines = readFileSync(join(this.dir, file.name), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (!line) return;
        try {
          journal.push(JSON.parse(line) as JournalEntry);
        } catch {
          // Only the last line can be torn (the process died inside its write).
          problems.push(`${file.name}: line ${i + 1} unreadable, skipped`);
        }
      });
    }
    return { snapshot, journal, problems };
  }

  /**
   * Writes `snapshot` as the new state and starts an empty journal after it; the old journal
   * and any stray one are deleted. Throws when the disk refuses (the previous state stays).
   */
  compact(snapshot: LedgerSnapshot): void {
    const generation = this.generation + 1;
    const journalFile = join(this.dir, `ledger-journal-${generation}.jsonl`);
    const fd = openSync(journalFile, 'a');
    try {
      const tmp = join(this.dir, `${SNAPSHOT}.tmp`);
      writeFileSync(tmp, JSON.stringify({ ...snapshot, generation }));
      renameSync(tmp, join(this.dir, SNAPSHOT));
    } catch (error) {
      closeSync(fd);
      unlinkQuietly(journalFile);
      throw error;
    }
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = fd;
    this.generation = generation;
    for (const name of readdirSync(this.dir)) {
      const match = JOURNAL.exec(name);
      if (match && Number(match[1]) !== generation) unlinkQuietly(join(this.dir, name));
    }
  }

  /** Appends one entry to the journal (throws when the disk refuses, e.g. ENOSPC). */
  append(entry: JournalEntry): void {
    this.appendAll([entry]);
  }

  /** Appends the entries in one write (throws when the disk refuses, e.g. ENOSPC). */
  appendAll(entries: readonly JournalEntry[]): void {
    if (this.fd === undefined) throw new Error('ledger journal not open');
    if (entries.length === 0) return;
    let text = this.torn ? '\n' : '';
    for (const entry of entries) text += `${JSON.stringify(entry)}\n`;
    const data = Buffer.from(text);
    this.torn = true;
    let written = 0;
    while (written < data.length) written += writeSync(this.fd, data, written);
    this.torn = false;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}
