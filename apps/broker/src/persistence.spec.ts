import { describe, expect, it } from 'vitest';
import { OutgoingQueue } from './persistence.js';

const packet = (brokerCounter: number, messageId?: number, brokerId = 'b1') => ({
  brokerId,
  brokerCounter,
  ...(messageId === undefined ? {} : { messageId }),
});

describe('OutgoingQueue (indexed in-flight deliveries of one client)', () => {
  it('clears by packet identifier and keeps delivery order for the replay', () => {
    const q = new OutgoingQueue();
    for (let c = 1; c <= 5; c++) q.push(packet(c));
    for (let c = 1; c <= 5; c++) expect(q.update(packet(c, 100 + c))).toBe(true);
    expect(q.clear(103)).toMatchObject({ brokerCounter: 3, messageId: 103 });
    expect(q.clear(103)).toBeUndefined(); // a duplicate PUBACK
    expect(q.clear(999)).toBeUndefined();
    expect(q.snapshot().map((p) => p.brokerCounter)).toEqual([1, 2, 4, 5]);
    expect(q.size).toBe(4);
  });

  it('follows a re-send under a new packet identifier', () => {
    const q = new OutgoingQueue();
    q.push(packet(1));
    q.update(packet(1, 7));
    q.update(packet(1, 8)); // re-sent after a reconnect with another identifier
    expect(q.clear(7)).toBeUndefined();
    expect(q.clear(8)).toMatchObject({ brokerCounter: 1 });
  });

  it('lets a wrapped-around identifier name the newer delivery only', () => {
    const q = new OutgoingQueue();
    q.push(packet(1));
    q.update(packet(1, 42));
    expect(q.clear(42)).toMatchObject({ brokerCounter: 1 });
    q.push(packet(70_000));
    q.update(packet(70_000, 42));
    expect(q.clear(42)).toMatchObject({ brokerCounter: 70_000 });
  });

  it('replaces, in place, a delivery of another broker that holds the identifier', () => {
    const q = new OutgoingQueue();
    q.push(packet(1, undefined, 'other'));
    q.update(packet(1, 9, 'other'));
    q.push(packet(2));
    expect(q.update(packet(5, 9, 'b1'))).toBe(true);
    expect(q.snapshot().map((p) => `${p.brokerId}:${p.brokerCounter}`)).toEqual(['b1:5', 'b1:2']);
    expect(q.update(packet(6, 77))).toBe(false); // nothing to update: the library's error
  });

  it('keeps the 30,000 newest of 100,000 deliveries when the oldest are acknowledged as they go', () => {
    const q = new OutgoingQueue();
    const n = 100_000;
    for (let c = 1; c <= n; c++) {
      q.push(packet(c));
      q.update(packet(c, (c % 65_535) + 1));
      if (c > 30_000) q.clear(((c - 30_000) % 65_535) + 1);
    }
    expect(q.size).toBe(30_000);
  });
});
