import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

/**
 * Aedes' in-memory persistence with an indexed outgoing queue.
 *
 * `aedes-persistence` 11 keeps each client's unacknowledged QoS-1 deliveries in an array and
 * finds a PUBACK's packet by scanning it, then `splice()`s it out. The ingestion's persistent
 * session holds up to tens of thousands of deliveries in flight (it acknowledges only once they
 * are stored), so every PUBACK cost a scan and a move of that array: 29 % of the broker's CPU at
 * 20,000 msg/s. Here each client's queue is a Map in delivery order (what a reconnecting session
 * is replayed from) plus an index from packet identifier to entry: enqueue, update and clear are
 * O(1). Everything else — subscriptions, retained messages, wills, incoming QoS-2 — is the
 * library's own code, unchanged.
 */

// aedes-persistence is CommonJS without type declarations for these modules.
const require = createRequire(import.meta.url);

interface OutgoingPacket {
  brokerId: string;
  brokerCounter: number;
  messageId?: number;
}

interface AsyncPersistence {
  outgoingEnqueue(sub: { clientId: string }, packet: OutgoingPacket): Promise<void>;
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: OutgoingPacket): Promise<void>;
  outgoingUpdate(client: { id: string }, packet: OutgoingPacket): Promise<void>;
  outgoingClearMessageId(
    client: { id: string },
    packet: { messageId?: number },
  ): Promise<OutgoingPacket | undefined>;
  outgoingStream(client: { id: string }): Readable;
}

type AsyncPersistenceClass = new (opts: object) => AsyncPersistence;
type PacketClass = new (packet: OutgoingPacket) => OutgoingPacket;
type CallBackPersistenceClass = new (
  factory: (opts: object) => AsyncPersistence,
  opts: object,
) => unknown;

const MemoryPersistence = require('aedes-persistence/asyncPersistence.js') as AsyncPersistenceClass;
const { CallBackPersistence } = require('aedes-persistence/callBackPersistence.js') as {
  CallBackPersistence: CallBackPersistenceClass;
};
const Packet = require('aedes-packet') as PacketClass;

const keyOf = (p: OutgoingPacket) => `${p.brokerId}\u0000${p.brokerCounter}`;

/** One client's deliveries awaiting PUBACK: in delivery order, indexed by packet identifier. */
export class OutgoingQueue {
  private readonly entries = new Map<string, OutgoingPacket>();
  private readonly byMessageId = new Map<number, string>();

  get size(): number {
    return this.entries.size;
  }

  push(packet: OutgoingPacket): void {
    this.entries.set(keyOf(packet), packet);
  }

  /**
   * The packet was written with a packet identifier (or re-written with a new one). As the
   * library does: the same delivery (broker id + counter) gets the identifier; failing that, a
   * packet of another broker with that identifier is replaced. Returns false when neither exists.
   */
  update(packet: OutgoingPacket): boolean {
    const key = keyOf(packet);
    const same = this.entries.get(key);
    if (same) {
      if (same.messageId !== undefined && this.byMessageId.get(same.messageId) === key)
        this.byMessageId.delete(same.messageId);
      same.messageId = packet.messageId;
      if (packet.messageId !== undefined) this.byMessageId.set(packet.messageId, key);
      return true;
    }
    if (packet.messageId === undefined) return false;
    const otherKey = this.byMessageId.get(packet.messageId);
    const other = otherKey === undefined ? undefined : this.entries.get(otherKey);
    if (otherKey === undefined || !other || other.brokerId === packet.brokerId) return false;
    // Replace in place: a Map keeps the position of an existing key only, so rebuild around it.
    const rebuilt = [...this.entries].map(([k, p]): [string, OutgoingPacket] =>
      k === otherKey ? [key, packet] : [k, p],
    );
    this.entries.clear();
    for (const [k, p] of rebuilt) this.entries.set(k, p);
    this.byMessageId.set(packet.messageId, key);
    return true;
  }

  /** Removes and returns the delivery a PUBACK names. */
  clear(messageId: number | undefined): OutgoingPacket | undefined {
    if (messageId === undefined) return undefined;
    const key = this.byMessageId.get(messageId);
    if (key === undefined) return undefined;
    this.byMessageId.delete(messageId);
    const packet = this.entries.get(key);
    this.entries.delete(key);
    return packet;
  }

  /** A snapshot in delivery order (the session replay after a reconnect). */
  snapshot(): OutgoingPacket[] {
    return [...this.entries.values()];
  }
}

class IndexedMemoryPersistence extends MemoryPersistence {
  private readonly outgoing = new Map<string, OutgoingQueue>();

  private queue(clientId: string): OutgoingQueue {
    let q = this.outgoing.get(clientId);
    if (!q) this.outgoing.set(clientId, (q = new OutgoingQueue()));
    return q;
  }

  override outgoingEnqueue(sub: { clientId: string }, packet: OutgoingPacket): Promise<void> {
    this.queue(sub.clientId).push(new Packet(packet));
    return Promise.resolve();
  }

  override outgoingEnqueueCombi(
    subs: { clientId: string }[],
    packet: OutgoingPacket,
  ): Promise<void> {
    for (const sub of subs) this.queue(sub.clientId).push(new Packet(packet));
    return Promise.resolve();
  }

  override outgoingUpdate(client: { id: string }, packet: OutgoingPacket): Promise<void> {
    return this.queue(client.id).update(packet)
      ? Promise.resolve()
      : Promise.reject(new Error('no such packet'));
  }

  override outgoingClearMessageId(
    client: { id: string },
    packet: { messageId?: number },
  ): Promise<OutgoingPacket | undefined> {
    return Promise.resolve(this.outgoing.get(client.id)?.clear(packet.messageId));
  }

  override outgoingStream(client: { id: string }): Readable {
    return Readable.from(this.outgoing.get(client.id)?.snapshot() ?? []);
  }
}

/** The persistence to give `Aedes.createBroker({ persistence })`. */
export function indexedMemoryPersistence(): unknown {
  return new CallBackPersistence((opts) => new IndexedMemoryPersistence(opts), {});
}
