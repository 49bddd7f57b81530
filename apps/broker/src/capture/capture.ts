import type { Identity } from '@parkpulse/access';
import type { LinkMessage } from '@parkpulse/ingest-link';
import type { AedesOptions, Client, PublishPacket } from 'aedes';
import type { IngestDispatcher } from './dispatcher.js';

type AuthorizePublish = NonNullable<AedesOptions['authorizePublish']>;

/** Topic roots whose publishes are device data, for wills published after their client is gone. */
const DEVICE_ROOTS = ['parks/', 'spBv1.0/'];

/**
 * Capture at the broker's edge (DESIGN "Delivery guarantee", step 2). Aedes runs
 * `authorizePublish` before it acknowledges a PUBLISH (PUBACK for QoS 1, PUBREC for QoS 2) and
 * before it routes it; and it reads nothing more from that client until every packet of the
 * current read has been handled. So an authorised device publish is handed to the dispatcher
 * here and its callback is held until the ingestion has stored it: the PUBACK then means stored,
 * and a device that keeps publishing is held back by its own unacknowledged messages.
 *
 * What is captured: every publish of a device (its own topics: data, malformed channels that
 * become dead letters, Sparkplug), and wills of device topics (at the client's close, or stored
 * wills of a crashed node, with no client). Service accounts' publishes (commands, dead letters)
 * are routed only. Released messages go on through Aedes to ordinary subscribers.
 */
export function capturingAuthorizePublish(
  authorize: AuthorizePublish,
  identityOf: (client: Client) => Identity | undefined,
  dispatcher: IngestDispatcher,
  held: HeldClients = new HeldClients(),
): AuthorizePublish {
  return (client, packet, done) =>
    authorize(client, packet, (error) => {
      if (error) return done(error);
      if (!captures(client, packet, identityOf)) return done(null);
      const payload =
        typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const message: LinkMessage = {
        topic: packet.topic,
        payload,
        qos: packet.qos,
        retain: packet.retain,
        will: client !== null && packet === (client as Client & { will?: unknown }).will,
        clientId: client?.id ?? '',
        receivedAt: Date.now(),
      };
      if (client) held.hold(client);
      dispatcher.capture(message, () => {
        if (client) held.release(client);
        done(null);
      });
    });
}

/** What HeldClients reads of an Aedes client: its keep-alive timer (not in Aedes' typings). */
interface KeepAlive {
  readonly _keepaliveTimer?: { refresh(): unknown } | null;
  readonly _keepaliveInterval?: number;
}

/**
 * Keeps the keep-alive of clients whose messages are held. Aedes reads nothing more from a client
 * while its current read is being handled — its PINGREQs included — and it drops a client from
 * which no packet was *handled* for 1.5 × its keep-alive (lib/handlers/connect.js, a Node timer
 * refreshed in lib/handlers/index.js). A device whose messages wait for storage did send; it must
 * not be disconnected for our wait. Aedes 1.2 has no hook for it (its keep-alive timer is
 * private): this is the one place that touches it, and it checks the shape it relies on.
 */
export class HeldClients {
  private readonly counts = new Map<Client, number>();
  private readonly timer: NodeJS.Timeout;
  private warned = false;

  constructor(
    private readonly log: (line: string) => void = () => undefined,
    everyMs = 1000,
  ) {
    this.timer = setInterval(() => this.refreshAll(), everyMs);
    this.timer.unref();
  }

  get clients(): number {
    return this.counts.size;
  }

  hold(client: Client): void {
    this.counts.set(client, (this.counts.get(client) ?? 0) + 1);
  }

  release(client: Client): void {
    const n = (this.counts.get(client) ?? 1) - 1;
    if (n > 0) this.counts.set(client, n);
    else this.counts.delete(client);
    this.refresh(client);
  }

  close(): void {
    clearInterval(this.timer);
    this.counts.clear();
  }

  private refreshAll(): void {
    for (const client of this.counts.keys()) this.refresh(client);
  }

  private refresh(client: Client): void {
    const k = client as Client & KeepAlive;
    if (k._keepaliveInterval === undefined) {
      if (!this.warned) {
        this.warned = true;
        this.log(
          'Aedes client has no _keepaliveInterval: clients waiting for storage may hit their keep-alive (check the Aedes version)',
        );
      }
      return;
    }
    if (k._keepaliveInterval > 0 && k._keepaliveTimer) k._keepaliveTimer.refresh();
  }
}

function captures(
  client: Client | null,
  packet: PublishPacket,
  identityOf: (client: Client) => Identity | undefined,
): boolean {
  if (!client) return DEVICE_ROOTS.some((root) => packet.topic.startsWith(root));
  return identityOf(client)?.kind === 'device';
}
