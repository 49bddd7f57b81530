import type { Aedes, Client, PublishPacket } from 'aedes';
import { COMMAND_DELIVERIES_TOPIC_ROOT, type CommandDeliveryNotice } from '@parkpulse/telemetry';

/**
 * When a device acknowledges (PUBACK) a command delivered on its own `parks/…/{deviceId}/cmd`,
 * publishes a notice on `$parkpulse/command-deliveries/{deviceId}` (QoS 1): the operations
 * service's proof that the command reached the device. Aedes emits 'ack' with the packet the
 * client acknowledged once the persistence released it; acknowledgements by anyone other than
 * the addressed device (observers reading `parks/#`) are not deliveries.
 */
export function publishCommandAcks(aedes: Aedes): void {
  aedes.on('ack', (packet, client: Client | null) => {
    if (!client || !packet || !('topic' in packet)) return;
    const { topic, payload } = packet as PublishPacket;
    const parts = topic.split('/');
    if (parts.length !== 6 || parts[0] !== 'parks' || parts[5] !== 'cmd') return;
    if (parts[4] !== client.id) return;
    let id: unknown;
    try {
      id = (JSON.parse(Buffer.from(payload).toString('utf8')) as { id?: unknown }).id;
    } catch {
      return; // not a command of the contract: nothing to report
    }
    if (typeof id !== 'string') return;
    const notice: CommandDeliveryNotice = { id, deviceId: client.id, topic, at: Date.now() };
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
