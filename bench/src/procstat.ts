import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 1/100 s (`getconf CLK_TCK`). */
export const CLOCK_TICKS_PER_S = 100;

/** How often {@link ProcessMeter} samples the resident set. */
export const SAMPLE_EVERY_MS = 200;

/** The CPU time of a process as /proc/<pid>/stat counts it, in clock ticks. */
export interface StatTicks {
  /** Field 14: time in user mode. */
  readonly utime: number;
  /** Field 15: time in kernel mode. */
  readonly stime: number;
}

/** The memory of a process as /proc/<pid>/status reports it, in bytes (0 when absent). */
export interface StatusMemory {
  /** VmRSS: the resident set now. */
  readonly rssBytes: number;
  /** VmHWM: the resident set's high-water mark over the process's life. */
  readonly hwmBytes: number;
}

/**
 * Parses the text of /proc/<pid>/stat. The command name (field 2) is in parentheses and may hold
 * spaces and parentheses itself, so fields are counted from the last `)`.
 */
export function parseStat(text: string): StatTicks {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line: no command name');
  // After ") " come field 3 (state) onwards: utime (14) is the 12th, stime (15) the 13th.
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error('not a /proc/<pid>/stat line: no utime/stime');
  return { utime, stime };
}

/** Parses the VmRSS and VmHWM lines (`VmRSS:    1912 kB`) of /proc/<pid>/status. */
export function parseStatus(text: string): StatusMemory {
  const kB = (name: string): number => {
    const match = new RegExp(`^${name}:\\s*(\\d+)\\s*kB`, 'm').exec(text);
    return match?.[1] ? Number(match[1]) * 1024 : 0;
  };
  return { rssBytes: kB('VmRSS'), hwmBytes: kB('VmHWM') };
}

/** User plus system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  const { utime, stime } = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return (utime + stime) / CLOCK_TICKS_PER_S;
}

/** A process's resident set (VmRSS) and its high-water mark (VmHWM), in bytes. */
export function memory(pid: number): StatusMemory {
  return parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** A process's resident set (VmRSS) in bytes. */
export function rssBytes(pid: number): number {
  return memory(pid).rssBytes;
}

/**
 * Measures one process over a window: the CPU seconds it used and the peak of its resident set,
 * sampled every 200 ms (so a spike shorter than that may be missed; VmHWM has the lifetime peak).
 * A process that is gone keeps the last figures read.
 */
export class ProcessMeter {
  private timer: NodeJS.Timeout | undefined;
  private cpuAtStart = 0;
  private lastCpu = 0;
  private peakRss = 0;

  constructor(readonly pid: number) {}

  /** Starts the window: reads the CPU time now and samples RSS until {@link stop}. */
  start(): void {
    this.stopTimer();
    this.cpuAtStart = this.lastCpu = this.readCpu() ?? 0;
    this.peakRss = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  /** Ends the window: CPU seconds used since {@link start} and the peak RSS seen, in bytes. */
  stop(): { cpuS: number; peakRssBytes: number } {
    this.stopTimer();
    this.sample();
    return { cpuS: this.lastCpu - this.cpuAtStart, peakRssBytes: this.peakRss };
  }

  private sample(): void {
    try {
      this.peakRss = Math.max(this.peakRss, rssBytes(this.pid));
    } catch {
      // the process has exited: keep the peak seen so far
    }
    this.lastCpu = this.readCpu() ?? this.lastCpu;
  }

  private readCpu(): number | undefined {
    try {
      return cpuSeconds(this.pid);
    } catch {
      return undefined;
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
