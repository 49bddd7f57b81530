import type { AedesOptions, Client } from 'aedes';

/** Longest a last will waits for its client's publishes (one that never completes, e.g. dropped). */
export const WILL_WAIT_MS = 5000;

type AuthorizePublish = NonNullable<AedesOptions['authorizePublish']>;
type Published = NonNullable<AedesOptions['published']>;

/** One client's publishes between authorisation and the end of their publish pipeline. */
interface PublishesInFlight {
  readonly packets: Set<object>;
  readonly waiting: (() => void)[];
}

/**
 * Aedes options whose last wills are published only after every publish their client made
 * before it went away has been forwarded.
 *
 * Aedes 1.2 acknowledges a QoS-1 PUBLISH first and starts publishing it on a later turn of the
 * event loop (lib/handlers/publish.js: PUBACK write, then `setImmediate` into
 * `broker.publish`), and its publish pipeline — store retained, queue for offline sessions,
 * emit — is asynchronous. When the client's connection dies in between, `Client#close` publishes
 * the will at once (lib/client.js), through the same pipeline, so it can overtake the client's
 * own acknowledged message: subscribers see a device's retained `online` after its `offline`
 * will, and — worse — the retained status left behind is `online` for a device that is gone.
 *
 * Aedes routes both through hooks we own: `authorizePublish` sees each client publish before it
 * is acknowledged, and the will (the object that is `client.will`) before it is published;
 * `published` sees each publish after it was stored, queued and handed to every subscriber. So a
 * client publish is tracked from its authorisation to its `published`, and the will's
 * authorisation is held until the client has none in flight (at most `waitMs`).
 */
export function willsAfterPublishes(options: AedesOptions, waitMs = WILL_WAIT_MS): AedesOptions {
  const authorize: AuthorizePublish = options.authorizePublish ?? reserveSys;
  const published: Published = options.published ?? ((_packet, _client, done) => done(null));
  const inFlight = new WeakMap<Client, PublishesInFlight>();

  const settle = (state: PublishesInFlight, packet: object) => {
    if (!state.packets.delete(packet) || state.packets.size > 0) return;
    for (const release of state.waiting.splice(0)) release();
  };

  return {
    ...options,
    authorizePublish(client, packet, done) {
      if (!client) return authorize(client, packet, done);
      let state = inFlight.get(client);
      if (packet === (client as Client & { will?: unknown }).will) {
        if (!state || state.packets.size === 0) return authorize(client, packet, done);
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          clearTimeout(timer);
          authorize(client, packet, done);
        };
        const timer = setTimeout(release, waitMs);
        state.waiting.push(release);
        return;
      }
      if (!state) inFlight.set(client, (state = { packets: new Set(), waiting: [] }));
      const tracked = state;
      tracked.packets.add(packet);
      authorize(client, packet, (error) => {
        if (error) settle(tracked, packet);
        done(error);
      });
    },
    published(packet, client, done) {
      // Aedes hands over the packet object that went through authorizePublish.
      const state = client ? inFlight.get(client) : undefined;
      if (state) settle(state, packet);
      published(packet, client, done);
    },
  };
}

/** Aedes' default authorizePublish: `$SYS/` is the broker's own. */
const reserveSys: AuthorizePublish = (_client, packet, done) =>
  done(packet.topic.startsWith('$SYS/') ? new Error('$SYS/ topic is reserved') : null);
