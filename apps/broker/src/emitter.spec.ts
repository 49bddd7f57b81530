import { describe, expect, it } from 'vitest';
import { createEmitter } from './emitter.js';

describe('createEmitter (Aedes emitter with an O(1) backlog)', () => {
  it('delivers a backlog far beyond its concurrency completely and in order', async () => {
    const mq = createEmitter();
    const seen: number[] = [];
    const pending: (() => void)[] = [];
    mq.on('parks/#', (message, done) => {
      seen.push(message['n'] as number);
      pending.push(done); // deliveries complete later: the backlog builds up
    });
    const n = 5_000;
    let emitted = 0;
    for (let i = 0; i < n; i++) mq.emit({ topic: 'parks/a/b', n: i }, () => emitted++);
    expect(mq.current).toBe(100); // Aedes' concurrency: the rest waits in the backlog
    while (pending.length > 0) pending.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(emitted).toBe(n);
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});

describe('createEmitter (no stack overflow when a backlog drains)', () => {
  it('drains 200,000 messages that match no subscription behind a stalled one', async () => {
    const mq = createEmitter();
    const pending: (() => void)[] = [];
    mq.on('parks/#', (_message, done) => pending.push(done));
    for (let i = 0; i < 100; i++) mq.emit({ topic: 'parks/a' }); // every slot taken
    let completed = 0;
    // Each of these completes synchronously once started: mqemitter 7.1 alone recursed once per
    // message and threw RangeError (Maximum call stack size exceeded) after about 2,500.
    for (let i = 0; i < 200_000; i++) mq.emit({ topic: 'nobody/listens' }, () => completed++);
    while (pending.length > 0) pending.shift()!();
    while (completed < 200_000) await new Promise((r) => setImmediate(r));
    expect(completed).toBe(200_000);
    expect(mq.current).toBe(0);
  });
});

describe('createEmitter (order kept when a drain is deferred)', () => {
  /**
   * Aedes drops a delivery whose broker counter is not above the last one that client got
   * (`dedupe` in aedes/lib/client.js): a message that overtakes an earlier one makes the earlier
   * one vanish for every subscriber of both. So a deferred start must not be overtaken.
   */
  it('starts every message in the order it was emitted, across a deferred start', async () => {
    const mq = createEmitter();
    const stalled: (() => void)[] = [];
    const seen: number[] = [];
    mq.on('parks/stalled', (_m, done) => stalled.push(done));
    mq.on('parks/seen', (m, done) => {
      seen.push(m['n'] as number);
      done();
    });
    for (let i = 0; i < 100; i++) mq.emit({ topic: 'parks/stalled' }); // every slot taken
    // Behind them, messages whose deliveries complete at once (so a drain nests), some read by
    // nobody: far more than the nesting bound.
    let n = 0;
    for (let i = 0; i < 2_000; i++)
      mq.emit(i % 3 === 0 ? { topic: 'nobody/listens' } : { topic: 'parks/seen', n: n++ });
    // The stalled deliveries complete one by one: each frees a slot and starts a drain.
    while (stalled.length > 0) stalled.shift()!();
    for (let i = 0; i < 5; i++) mq.emit({ topic: 'parks/seen', n: n++ });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});
