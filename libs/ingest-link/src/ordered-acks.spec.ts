import { describe, expect, it } from 'vitest';
import { OrderedAcks } from './ordered-acks.js';

describe('OrderedAcks', () => {
  it('releases acknowledgements in arrival order, whatever order they complete in', () => {
    const released: number[][] = [];
    const acks = new OrderedAcks<number>((ids) => released.push(ids));
    const done = [1, 2, 3, 4].map((id) => acks.add(id));
    done[2]!();
    done[1]!();
    expect(released).toEqual([]);
    expect(acks.size).toBe(4);
    done[0]!();
    expect(released).toEqual([[1, 2, 3]]);
    done[3]!();
    expect(released).toEqual([[1, 2, 3], [4]]);
    expect(acks.size).toBe(0);
  });

  it('ignores a second completion of the same slot', () => {
    const released: number[][] = [];
    const acks = new OrderedAcks<number>((ids) => released.push(ids));
    const a = acks.add(7);
    a();
    a();
    expect(released).toEqual([[7]]);
  });

  it('forgets everything on clear: late completions release nothing', () => {
    const released: number[][] = [];
    const acks = new OrderedAcks<number>((ids) => released.push(ids));
    const a = acks.add(1);
    acks.clear();
    a();
    expect(released).toEqual([]);
    expect(acks.size).toBe(0);
  });

  it('stays correct over many slots (compaction of released ones)', () => {
    let count = 0;
    let last = 0;
    const acks = new OrderedAcks<number>((ids) => {
      for (const id of ids) {
        expect(id).toBe(last + 1);
        last = id;
        count++;
      }
    });
    const pending: (() => void)[] = [];
    for (let i = 1; i <= 10_000; i++) {
      pending.push(acks.add(i));
      if (i % 3 === 0)
        pending
          .splice(0)
          .reverse()
          .forEach((f) => f());
    }
    pending.forEach((f) => f());
    expect(count).toBe(10_000);
    expect(acks.size).toBe(0);
  });
});
