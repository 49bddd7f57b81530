import { describe, expect, it } from 'vitest';
import { DeliveryLedger } from './delivery-ledger.js';
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
});
