import { describe, expect, it } from 'vitest';
import { DeliveryLedger, type LedgerSnapshot } from './delivery-ledger.js';
import { parseTopic, type ParsedTopic } from './topic.js';

const topicOf = (device: string): ParsedTopic => {
  const t = parseTopic(`parks/science-city/s1/cnc_machine/${device}/telemetry`);
  if (!t.ok) throw new Error(t.error.detail);
  return t.value;
};

describe('DeliveryLedger', () => {
  it('shows exactly the skipped sequence numbers as missing, until they arrive late', () => {
    const ledger = new DeliveryLedger();
    const t = topicOf('cnc-1');
    const skipped = new Set([10, 11, 50]);
    for (let seq = 1; seq <= 100; seq++)
      if (!skipped.has(seq)) ledger.record(t, seq, 1000 + seq, 1100 + seq);
    let [f] = ledger.flush();
    expect(f).toMatchObject({ received: 97, missing: 3, expected: 100, lastSeq: 100, late: 0 });
    expect(f!.completeness).toBeCloseTo(0.97, 12);
    expect(f!.lagMs).toEqual({ p50: 100, p99: 100, max: 100 });
    ledger.record(t, 50, 1050, 5000); // the late one
    [f] = ledger.flush();
    expect(f).toMatchObject({ received: 98, missing: 2, late: 1, duplicates: 0 });
    expect(f!.lagMs?.max).toBe(3950);
  });

  it('counts a redelivered sample as a duplicate, not a gap', () => {
    const ledger = new DeliveryLedger();
    const t = topicOf('cnc-2');
    for (let seq = 1; seq <= 5; seq++) ledger.record(t, seq, seq, seq);
    ledger.record(t, 3, 3, 10); // same seq, same device time: the broker redelivered it
    expect(ledger.flush()[0]).toMatchObject({ received: 6, duplicates: 1, missing: 0, resets: 0 });
  });

  it('takes a counter that goes back while the clock goes forward as a restart', () => {
    const ledger = new DeliveryLedger();
    const t = topicOf('cnc-3');
    for (let seq = 1; seq <= 500; seq++) ledger.record(t, seq, seq * 1000, seq * 1000);
    ledger.record(t, 1, 900_000, 900_000); // rebooted
    ledger.record(t, 3, 902_000, 902_000);
    expect(ledger.flush()[0]).toMatchObject({ resets: 1, expected: 3, missing: 1, lastSeq: 3 });
  });

  it('reports only devices active since the last flush; samples without seq are counted', () => {
    const ledger = new DeliveryLedger();
    ledger.record(topicOf('a'), undefined, 0, 5);
    ledger.record(topicOf('b'), 7, 0, 5);
    expect(ledger.flush().map((f) => [f.topic.deviceId, f.expected, f.completeness])).toEqual([
      ['a', 0, 1],
      ['b', 1, 1],
    ]);
    ledger.record(topicOf('b'), 8, 0, 5);
    expect(ledger.flush().map((f) => f.topic.deviceId)).toEqual(['b']);
    expect(ledger.size).toBe(2);
  });

  it('takes an older seq above near zero as late, never as a reset (a backlog interleaved)', () => {
    const ledger = new DeliveryLedger();
    const t = topicOf('cnc-4');
    for (let seq = 500; seq <= 600; seq++) ledger.record(t, seq, seq, seq); // live first
    for (let seq = 400; seq < 500; seq++) ledger.record(t, seq, seq, 700); // then the backlog
    ledger.record(t, 450, 10_000, 10_000); // even with a later clock: not near zero
    ledger.record(t, 1, 100, 700); // near zero, but the clock went back: the backlog's start
    expect(ledger.flush()[0]).toMatchObject({
      resets: 0,
      late: 101,
      duplicates: 1,
      missing: 398, // 2…399
      expected: 600,
      lastSeq: 600,
    });
  });

  it('clears a gap filled later and gives per-interval figures beside the cumulative ones', () => {
    const ledger = new DeliveryLedger();
    const t = topicOf('cnc-5');
    for (const seq of [1, 2, 5, 6]) ledger.record(t, seq, seq, seq);
    expect(ledger.flush()[0]).toMatchObject({ missing: 2, interval: { received: 4, late: 0 } });
    ledger.record(t, 3, 3, 9);
    ledger.record(t, 4, 4, 9);
    expect(ledger.flush()[0]).toMatchObject({
      missing: 0,
      late: 2,
      received: 6,
      completeness: 1,
      interval: { received: 2, late: 2, duplicates: 0 },
    });
  });

  it('refuses a newer seq whose timestamp is not after the newest (a clock stepped back)', () => {
    const ledger = new DeliveryLedger();
    const t = topicOf('cnc-6');
    for (let seq = 1; seq <= 10; seq++) {
      expect(ledger.admit(t, seq, seq * 1000)).toBe(true);
      ledger.record(t, seq, seq * 1000, seq * 1000);
    }
    expect(ledger.admit(t, 11, 3000)).toBe(false); // reuses seq 3's time
    expect(ledger.admit(t, 12, 10_000)).toBe(false); // the newest's time: not after it
    expect(ledger.admit(t, 5, 5000)).toBe(true); // a redelivery is not newer
    expect(ledger.admit(t, 13, 10_001)).toBe(true);
    expect(ledger.admit(t, undefined, 0)).toBe(true);
    ledger.record(t, 13, 10_001, 10_001);
    expect(ledger.flush()[0]).toMatchObject({
      clockRegressions: 2,
      interval: { clockRegressions: 2 },
      missing: 0, // 11 and 12 were refused, not lost
      expected: 13,
    });
  });

  it('admits a newer seq at an earlier time outside what the device covered (a backlog)', () => {
    const ledger = new DeliveryLedger();
    const t = topicOf('cnc-8');
    for (let seq = 1; seq <= 10; seq++) ledger.admit(t, seq, 100_000 + seq * 1000); // 101…110 s
    // A restarted counter that uploads an older backlog: 11… at 1…9 s, then onto covered time.
    for (let seq = 11; seq <= 19; seq++) expect(ledger.admit(t, seq, (seq - 10) * 1000)).toBe(true);
    expect(ledger.admit(t, 20, 50_000)).toBe(true); // still before 101 s
    expect(ledger.admit(t, 21, 105_000)).toBe(false); // inside 101…110 s: would overwrite
    expect(ledger.admit(t, 22, 5_000)).toBe(false); // inside the backlog's own time
    expect(ledger.admit(t, 23, 111_000)).toBe(true);
    expect(ledger.flush()[0]).toMatchObject({ clockRegressions: 2 });
  });

  it('keeps the time of earlier counter runs covered: a clock stepped back after a restart is caught', () => {
    const ledger = new DeliveryLedger();
    const t = topicOf('cnc-10');
    for (let seq = 1; seq <= 10; seq++) {
      expect(ledger.admit(t, seq, 100_000 + seq * 1000)).toBe(true); // 101…110 s
      ledger.record(t, seq, 100_000 + seq * 1000, 200_000);
    }
    // The counter restarts (seq 1, clock forward), then the clock steps back onto run 1's time.
    expect(ledger.admit(t, 1, 300_000)).toBe(true);
    ledger.record(t, 1, 300_000, 300_000);
    expect(ledger.admit(t, 2, 105_000)).toBe(false); // seq 5 of the first run is stored there
    expect(ledger.admit(t, 3, 150_000)).toBe(true); // earlier, but no sample is stored there
    expect(ledger.admit(t, 4, 300_001)).toBe(true);
    expect(ledger.flush()[0]).toMatchObject({ resets: 1, clockRegressions: 1 });
  });

  it('is not confused by stored samples of one run arriving while another run is admitted', () => {
    const ledger = new DeliveryLedger();
    const t = topicOf('cnc-9');
    // Run A (late device time) admitted; run B (earlier time, counter from 1) admitted beside it…
    for (let seq = 1; seq <= 10; seq++) ledger.admit(t, seq, 1_000_000 + seq * 1000);
    for (let seq = 1; seq <= 5; seq++) expect(ledger.admit(t, seq, seq * 1000)).toBe(true);
    // …while run A's samples are reported stored only now (storage lags behind).
    for (let seq = 1; seq <= 10; seq++) ledger.record(t, seq, 1_000_000 + seq * 1000, 2_000_000);
    for (let seq = 6; seq <= 30; seq++) expect(ledger.admit(t, seq, seq * 1000)).toBe(true);
    expect(ledger.flush()[0]).toMatchObject({ clockRegressions: 0 });
  });

  it('carries on from a snapshot: no false gap, duplicate or reset after a restart', () => {
    let clock = 1000;
    const before = new DeliveryLedger(() => clock);
    const t = topicOf('cnc-7');
    // As the ingestion does: admitted before storing, recorded once stored.
    const store = (ledger: DeliveryLedger, seq: number, ts: number) => {
      expect(ledger.admit(t, seq, ts)).toBe(true);
      ledger.record(t, seq, ts, ts);
    };
    for (const seq of [1, 2, 3, 5]) store(before, seq, seq);
    const snapshot = JSON.parse(JSON.stringify(before.snapshot())) as ReturnType<
      DeliveryLedger['snapshot']
    >;
    clock = 5000;
    const after = new DeliveryLedger(() => clock);
    after.restore(snapshot);
    store(after, 7, 7);
    store(after, 6, 6);
    after.confirm(t, 4, 4); // replayed from the spool
    after.confirm(t, 2, 2); // known already: nothing
    expect(after.admit(t, 8, 6)).toBe(false);
    expect(after.admit(t, 8, 2)).toBe(false); // covered before the restart
    // Admitted before a crash but never stored: redelivered after it, and admitted again.
    const crashed = new DeliveryLedger();
    store(crashed, 1, 1000);
    expect(crashed.admit(t, 2, 2000)).toBe(true);
    const restarted = new DeliveryLedger();
    restarted.restore(JSON.parse(JSON.stringify(crashed.snapshot())) as LedgerSnapshot);
    expect(restarted.admit(t, 2, 2000)).toBe(true);
    expect(after.flush()[0]).toMatchObject({
      since: 1000,
      received: 7,
      missing: 0,
      duplicates: 0,
      resets: 0,
      late: 2,
      expected: 7,
      interval: { received: 3, clockRegressions: 2 },
    });
  });
});
