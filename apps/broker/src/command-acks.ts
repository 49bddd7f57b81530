import type { Aedes, Client, PublishPacket } from 'aedes';
import { COMMAND_DELIVERIES_TOPIC_ROOT, type CommandDeliveryNotice } from '@parkpulse/telemetry';

/**
 * When a device acknowledges (PUBACK) a command delivered on its own `parks/…/{deviceId}/cmd`,
 * publishes a notice on `$parkpulse/command-deliveries/{deviceId}` (QoS 1): the operations
 * service's proof that the command reached the device.
 *
 * Aedes emits 'ack' with the acknowledged packet only for persistent sessions (it keeps no copy
 * of a clean session's deliveries). For those, the commands published to a connected device
 * are remembered in order: a device subscribes to nothing but its own `cmd`, and acknowledges
 * QoS-1 deliveries in the order it received them [MQTT-4.6.0-2], so its n-th PUBACK is for the
 * n-th command. Acknowledgements by anyone other than the addressed device (observers reading
 * `parks/#`) are not deliveries.
 */
export function publishCommandAcks(aedes: Aedes): void {
  /**
   * Per connection of a device: commands on their way to it, oldest first. Keyed by the
   * connection, not the id: a PUBACK that arrives with the DISCONNECT behind it is reported
   * after the connection closed, and a new connection starts with nothing in flight.
   */
  const inFlight = new WeakMap<Client, { id: string; topic: string }[]>();
  const clients = (aedes as unknown as { clients: Record<string, SubscribedClient | undefined> })
    .clients;

  aedes.on('publish', (packet) => {
    const deviceId = commandTarget(packet.topic);
    if (!deviceId || packet.qos === 0) return;
    const client = clients[deviceId];
    // Only what will be delivered at QoS 1 now: the device is connected and subscribed at QoS 1.
    if (!client || (client.subscriptions?.[packet.topic]?.qos ?? 0) < 1) return;
    const id = commandId(packet.payload);
    if (!id) return;
    let queue = inFlight.get(client);
    if (!queue) inFlight.set(client, (queue = []));
    queue.push({ id, topic: packet.topic });
  });

  aedes.on('ack', (packet, client: Client | null) => {
    if (!client) return;
    let delivered: { id: string; topic: string } | undefined;
    const queue = inFlight.get(client);
    const acked = isPublish(packet) ? packet : undefined;
    const id =
      acked && commandTarget(acked.topic) === client.id ? commandId(acked.payload) : undefined;
    if (id && acked) {
      delivered = { id, topic: acked.topic };
      const at = queue?.findIndex((q) => q.id === id) ?? -1;
      if (at >= 0) queue!.splice(at, 1);
    } else {
      delivered = queue?.shift();
    }
    if (!delivered) return;
    const notice: CommandDeliveryNotice = { ...delivered, deviceId: client.id, at: Date.now() };
    aedes.publish(
      {
        cmd: 'publish',
        topic: `${COMMAND_DELIVERIES_TOPIC_ROOT}/${client.id}`,
        payload: Buffer.from(JSON.stringify(notice)),
        qos: 1,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
  });
}

/** The device a `parks/{park}/{site}/{type}/{deviceId}/cmd` topic addresses. */
function commandTarget(topic: string): string | undefined {
  const parts = topic.split('/');
  return parts.length === 6 && parts[0] === 'parks' && parts[5] === 'cmd' ? parts[4] : undefined;
}

function commandId(payload: Buffer | string): string | undefined {
  try {
    const id = (JSON.parse(Buffer.from(payload).toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined; // not a command of the contract: nothing to report
  }
}

/** A connected client with the subscriptions Aedes keeps on it (not in its typings). */
type SubscribedClient = Client & { subscriptions?: Record<string, { qos: number } | undefined> };

function isPublish(packet: unknown): packet is PublishPacket {
  return typeof packet === 'object' && packet !== null && 'topic' in packet && 'payload' in packet;
}
