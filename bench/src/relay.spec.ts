import { describe, expect, it } from 'vitest';
import { parseOpenFilesLimit } from './idle.js';
import { BATCH_POINTS, lineProtocolBatch } from './influx-ceiling.js';
import { CLOCK_TICKS_PER_S, parseStat, parseStatus } from './procstat.js';
import { mosquittoConf } from './relay.js';

// A real /proc/<pid>/stat line, with a command name that holds a space and a parenthesis.
const STAT =
  '4242 (node (broker) x) S 4200 4242 4200 0 -1 4194560 51234 0 12 0 1234 567 0 0 20 0 11 0 ' +
  '1110410 1234567890 45678 18446744073709551615 1 1 0 0 0 0 0 16781312 134235650 0 0 0 17 1 0 0 0 0 0';

const STATUS = [
  'Name:\tnode',
  'State:\tS (sleeping)',
  'VmPeak:\t 1234567 kB',
  'VmSize:\t 1200000 kB',
  'VmHWM:\t   98304 kB',
  'VmRSS:\t   65536 kB',
  'RssAnon:\t   40000 kB',
  'Threads:\t11',
].join('\n');

describe('procstat parsing', () => {
  it('reads utime and stime (fields 14 and 15) after the command name', () => {
    expect(parseStat(STAT)).toEqual({ utime: 1234, stime: 567 });
    expect((1234 + 567) / CLOCK_TICKS_PER_S).toBeCloseTo(18.01);
  });

  it('rejects text that is not a stat line', () => {
    expect(() => parseStat('no parenthesis here')).toThrow();
    expect(() => parseStat('1 (x) S 1')).toThrow();
  });

  it('reads VmRSS and VmHWM in bytes, not RssAnon or VmPeak', () => {
    expect(parseStatus(STATUS)).toEqual({ rssBytes: 65536 * 1024, hwmBytes: 98304 * 1024 });
  });

  it('gives 0 for the memory of a process without one (a zombie)', () => {
    expect(parseStatus('Name:\tnode\nState:\tZ (zombie)\n')).toEqual({ rssBytes: 0, hwmBytes: 0 });
  });
});

describe('bench helpers', () => {
  it('reads the soft open-files limit', () => {
    const limits = [
      'Limit                     Soft Limit           Hard Limit           Units',
      'Max open files            20000                65536                files',
    ].join('\n');
    expect(parseOpenFilesLimit(limits)).toBe(20000);
    expect(parseOpenFilesLimit('Max open files  unlimited  unlimited  files')).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('configures Mosquitto on loopback for anonymous clients', () => {
    expect(mosquittoConf(18830)).toBe('listener 18830 127.0.0.1\nallow_anonymous true\n');
  });

  it('writes line protocol with six float fields and a unique timestamp per point', () => {
    const lines = lineProtocolBatch(1_700_000_000_000, BATCH_POINTS).split('\n');
    expect(lines).toHaveLength(BATCH_POINTS);
    expect(lines[0]).toMatch(
      /^energy_meter,device=meter-0,park=science-city,site=bench-0 active_power_kw=[\d.]+,energy_kwh=[\d.]+,voltage_v=[\d.]+,current_a=[\d.]+,power_factor=0\.96,frequency_hz=[\d.]+ 1700000000000$/,
    );
    const timestamps = new Set(lines.map((l) => l.split(' ').pop()));
    expect(timestamps.size).toBe(BATCH_POINTS);
    expect(new Set(lines.map((l) => l.split(',')[1])).size).toBe(200);
  });
});
