import {
  encodeBatch,
  encodedSize,
  ownerOf,
  partitionKey,
  type LinkMessage,
} from '@parkpulse/ingest-link';

/** A captured device message, held until an ingestion instance says it is stored. */
export interface Captured {
  readonly message: LinkMessage;
  /** Releases the device's publish (Aedes then sends its PUBACK and routes it to subscribers). */
  readonly release: () => void;
  readonly key: string;
  readonly bytes: number;
  readonly capturedAt: number;
}

/** One connected ingestion instance, as the dispatcher sees it (link-server.ts implements it). */
export interface LinkPeer {
  /** The instance's client id: its identity in the partitioning. */
  readonly id: string;
  /** Sends one batch as a QoS-1 PUBLISH with this message id. */
  send(messageId: number, batch: Buffer): void;
  /** Another connection with the same id took over: close this one. */
  evict(): void;
}

export interface DispatcherConfig {
  /** Batches a link may have unacknowledged at once. */
  readonly window: number;
  /** Largest batch, in messages and in encoded bytes (a bigger single message still goes alone). */
  readonly maxBatchMessages: number;
  readonly maxBatchBytes: number;
  /** Captured messages held in all (queued or in flight) above which device reads stop. */
  readonly maxPendingMessages: number;
  readonly maxPendingBytes: number;
}

export const DEFAULT_DISPATCHER_CONFIG: DispatcherConfig = {
  window: 2,
  maxBatchMessages: 5_000,
  maxBatchBytes: 4 * 1024 * 1024,
  maxPendingMessages: 200_000,
  maxPendingBytes: 256 * 1024 * 1024,
};

/** What the dispatcher tells the rest of the broker. */
export interface DispatcherEvents {
  /** Too much held: stop reading devices (true), or read them again (false). */
  readonly backPressure?: (on: boolean) => void;
  /** A batch was acknowledged: how many messages, and how long the oldest waited (ms). */
  readonly stored?: (messages: number, oldestWaitMs: number) => void;
  readonly log?: (line: string) => void;
}

class Link {
  readonly queue: Captured[] = [];
  /** Unacknowledged batches by message id, in the order they were sent. */
  readonly inFlight = new Map<number, Captured[]>();
  private nextId = 1;

  constructor(readonly peer: LinkPeer) {}

  messageId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id === 0xffff ? 1 : id + 1;
      if (!this.inFlight.has(id)) return id;
    }
  }
}

/**
 * Carries captured device messages to the ingestion instances attached to this broker node, in
 * batches, and releases each message once its batch is acknowledged (DESIGN "Delivery
 * guarantee"). Nothing is ever dropped here:
 * - a device's messages always go to one instance (rendezvous hashing on the device id over the
 *   attached instances); while none is attached they wait;
 * - group commit: a link with room in its window gets a batch of everything queued for it at the
 *   end of the current event-loop turn; under load batches grow, at low load they leave at once;
 * - when an instance goes, its unacknowledged batches and queue go to the instances that now own
 *   those devices (or wait for one), oldest first;
 * - above `maxPendingMessages` / `maxPendingBytes` held, `backPressure(true)` asks the broker to
 *   stop reading devices; devices keep what they have not had acknowledged (TCP pushes back).
 */
export class IngestDispatcher {
  private readonly links = new Map<string, Link>();
  /** Messages no attached instance can take yet (none attached). */
  private readonly waiting: Captured[] = [];
  private readonly owners = new Map<string, Link>();
  private pendingMessages = 0;
  private pendingBytes = 0;
  private pressed = false;
  private readonly dirty = new Set<Link>();
  private scheduled = false;
  private closing = false;
  private readonly idle: (() => void)[] = [];

  constructor(
    readonly config: DispatcherConfig = DEFAULT_DISPATCHER_CONFIG,
    private readonly events: DispatcherEvents = {},
  ) {}

  get pending(): { readonly messages: number; readonly bytes: number } {
    return { messages: this.pendingMessages, bytes: this.pendingBytes };
  }

  get attached(): readonly string[] {
    return [...this.links.keys()];
  }

  /** Takes a device message; `release` is called once it is stored. */
  capture(message: LinkMessage, release: () => void): void {
    const captured: Captured = {
      message,
      release,
      key: partitionKey(message.topic, message.clientId),
      bytes: encodedSize(message),
      capturedAt: Date.now(),
    };
    this.pendingMessages++;
    this.pendingBytes += captured.bytes;
    this.checkPressure();
    this.route(captured);
  }

  /** An ingestion instance is ready for batches (a newer link with the same id replaces the old one). */
  attach(peer: LinkPeer): void {
    const old = this.links.get(peer.id);
    if (old) {
      this.detach(old.peer);
      old.peer.evict();
    }
    const link = new Link(peer);
    this.links.set(peer.id, link);
    // Ownership changes for about 1/n of the devices; messages already queued or in flight
    // elsewhere stay where they are (a device has one chunk held at a time: no reordering).
    this.owners.clear();
    const waiting = this.waiting.splice(0);
    for (const c of waiting) this.route(c);
    this.events.log?.(
      `ingest link ${peer.id} attached (${this.links.size} attached; ${waiting.length} waiting message(s) handed out)`,
    );
    this.schedule(link);
  }

  /** An instance's link is gone: what it had not acknowledged goes to the new owners, in order. */
  detach(peer: LinkPeer): void {
    const link = this.links.get(peer.id);
    if (!link || link.peer !== peer) return;
    this.links.delete(peer.id);
    this.dirty.delete(link);
    this.owners.clear();
    const orphans = [...[...link.inFlight.values()].flat(), ...link.queue];
    link.inFlight.clear();
    link.queue.length = 0;
    for (const c of orphans) this.route(c);
    this.events.log?.(
      `ingest link ${peer.id} detached (${this.links.size} attached; ${orphans.length} unacknowledged message(s) moved)`,
    );
    this.settleIdle();
  }

  /** The instance acknowledged a batch: its messages are stored. */
  acked(peer: LinkPeer, messageId: number): boolean {
    const link = this.links.get(peer.id);
    if (!link || link.peer !== peer) return false;
    const batch = link.inFlight.get(messageId);
    if (!batch) return false;
    link.inFlight.delete(messageId);
    let bytes = 0;
    let oldest = Number.POSITIVE_INFINITY;
    for (const c of batch) {
      bytes += c.bytes;
      if (c.capturedAt < oldest) oldest = c.capturedAt;
    }
    this.pendingMessages -= batch.length;
    this.pendingBytes -= bytes;
    for (const c of batch) c.release();
    this.events.stored?.(batch.length, Date.now() - oldest);
    this.checkPressure();
    this.schedule(link);
    this.settleIdle();
    return true;
  }

  /**
   * Resolves when nothing is held any more, or after `timeoutMs` (shutdown: devices keep and
   * resend what was not acknowledged by then). Returns how many messages are still held.
   */
  async drain(timeoutMs: number): Promise<number> {
    this.closing = true;
    if (this.pendingMessages > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.pendingMessages;
  }

  private settleIdle(): void {
    if (this.closing && this.pendingMessages === 0) for (const w of this.idle.splice(0)) w();
  }

  private route(captured: Captured): void {
    const link = this.ownerLink(captured.key);
    if (!link) {
      this.waiting.push(captured);
      return;
    }
    link.queue.push(captured);
    this.schedule(link);
  }

  private ownerLink(key: string): Link | undefined {
    if (this.links.size === 0) return undefined;
    let link = this.owners.get(key);
    if (link) return link;
    if (this.links.size === 1) link = this.links.values().next().value!;
    else link = this.links.get(ownerOf(key, [...this.links.keys()])!)!;
    this.owners.set(key, link);
    return link;
  }

  /** Sends at the end of this turn, so that a whole read of every client goes in one batch. */
  private schedule(link: Link): void {
    this.dirty.add(link);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const links = [...this.dirty];
      this.dirty.clear();
      for (const l of links) if (this.links.get(l.peer.id) === l) this.pump(l);
    });
  }

  private pump(link: Link): void {
    const { window, maxBatchMessages, maxBatchBytes } = this.config;
    while (link.inFlight.size < window && link.queue.length > 0) {
      let n = 0;
      let bytes = 0;
      while (n < link.queue.length && n < maxBatchMessages) {
        const size = link.queue[n]!.bytes;
        if (n > 0 && bytes + size > maxBatchBytes) break;
        bytes += size;
        n++;
      }
      const batch = link.queue.splice(0, n);
      const messageId = link.messageId();
      link.inFlight.set(messageId, batch);
      link.peer.send(messageId, encodeBatch(batch.map((c) => c.message)));
    }
  }

  private checkPressure(): void {
    const { maxPendingMessages, maxPendingBytes } = this.config;
    const over = this.pendingMessages >= maxPendingMessages || this.pendingBytes >= maxPendingBytes;
    const under =
      this.pendingMessages < maxPendingMessages / 2 && this.pendingBytes < maxPendingBytes / 2;
    if (over && !this.pressed) {
      this.pressed = true;
      this.events.log?.(
        `${this.pendingMessages} messages (${this.pendingBytes} bytes) wait to be stored: reading devices paused`,
      );
      this.events.backPressure?.(true);
    } else if (under && this.pressed) {
      this.pressed = false;
      this.events.log?.('stored messages caught up: reading devices again');
      this.events.backPressure?.(false);
    }
  }
}
