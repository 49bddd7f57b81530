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
      dispatcher.capture(message, () => done(null));
    });
}

function captures(
  client: Client | null,
  packet: PublishPacket,
  identityOf: (client: Client) => Identity | undefined,
): boolean {
  if (!client) return DEVICE_ROOTS.some((root) => packet.topic.startsWith(root));
  return identityOf(client)?.kind === 'device';
}
