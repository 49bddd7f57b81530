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
