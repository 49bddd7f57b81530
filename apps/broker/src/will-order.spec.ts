import type { AedesOptions, Client } from 'aedes';
import { describe, expect, it } from 'vitest';
import { willsAfterPublishes } from './will-order.js';

type Packet = Parameters<NonNullable<AedesOptions['authorizePublish']>>[1];

const packet = (payload: string, topic = 'parks/p/s/t/d/status'): Packet => ({
  cmd: 'publish',
  topic,
  payload: Buffer.from(payload),
  qos: 1,
  retain: true,
  dup: false,
});

function hooks(waitMs = 5000) {
  const options = willsAfterPublishes({}, waitMs);
  const authorize = (client: Client | null, p: Packet) =>
    new Promise<Error | null | undefined>((r) => options.authorizePublish!(client, p, r));
  const published = (client: Client, p: Packet) =>
    new Promise<void>((r) =>
      options.published!(p as Parameters<NonNullable<AedesOptions['published']>>[0], client, () =>
        r(),
      ),
    );
  return { authorize, published };
}

describe('willsAfterPublishes (the Aedes hooks; the race itself: broker-will-order.e2e)', () => {
  it('holds a will until every publish its client had authorised was forwarded', async () => {
    const { authorize, published } = hooks();
    const online = packet('online');
    const will = packet('offline');
    const client = { id: 'd', will } as unknown as Client;
    expect(await authorize(client, online)).toBeNull();
    let willAuthorised = false;
    const willDone = authorize(client, will).then(() => (willAuthorised = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(willAuthorised).toBe(false);
    await published(client, online);
    await willDone;
    expect(willAuthorised).toBe(true);
  });

  it('lets a will through at once when nothing is in flight, and after waitMs at most', async () => {
    const { authorize } = hooks(50);
    const will = packet('offline');
    const idle = { id: 'a', will } as unknown as Client;
    expect(await authorize(idle, will)).toBeNull();
    const stuck = { id: 'b', will } as unknown as Client;
    await authorize(stuck, packet('online')); // never published (e.g. dropped)
    const started = Date.now();
    expect(await authorize(stuck, will)).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('keeps Aedes’ default: $SYS/ is the broker’s own', async () => {
    const { authorize } = hooks();
    const client = { id: 'c' } as unknown as Client;
    expect(await authorize(client, packet('x', '$SYS/fake'))).toBeInstanceOf(Error);
  });
});
