import type { Aedes, Client, ConnectPacket } from 'aedes';
import { CONNECTIONS_TOPIC_ROOT, type ConnectionNotice } from '@parkpulse/telemetry';

/**
 * For every device whose CONNECT is accepted, publishes a notice on
 * `$parkpulse/connections/{clientId}` (retained, QoS 1): its keep-alive, clean-session flag,
 * protocol level and last will (topic, QoS, retain flag and payload size) — what a watcher such
 * as the conformance tester cannot see otherwise. Retained, so that one who starts watching after
 * the device connected still gets it; each connect replaces the last one's. No credential is in
 * it, nor the will's payload. Devices only (`isDevice`): their ids are the registry's, so there
 * are at most as many notices as retained statuses; service accounts often connect with a new
 * random client id each time, and a retained notice each would pile up in the broker for ever.
 *
 * The CONNECT packet is Aedes' only complete record of what the client asked for (it keeps the
 * keep-alive only as a timer), so `preConnect` — a public, typed hook of the instance — is
 * wrapped here to note each packet's fields against its client; 'clientReady' (the CONNACK was
 * accepted) publishes them. A refused CONNECT never reaches 'clientReady' and its note goes with
 * its client.
 *
 * Only the broker publishes on `$parkpulse/…` (no role and no device may, see @parkpulse/access),
 * and only the observer and operator roles may subscribe to `$parkpulse/connections/#`.
 */
export function publishConnectionNotices(
  aedes: Aedes,
  isDevice: (client: Client) => boolean,
): void {
  const previous = aedes.preConnect;
  if (typeof previous !== 'function')
    throw new Error('aedes: no preConnect handler to wrap (the connection notices need it)');
  const asked = new WeakMap<Client, Omit<ConnectionNotice, 'clientId' | 'connectedAt'>>();

  aedes.preConnect = (client, packet, callback) => {
    asked.set(client, summary(packet));
    previous.call(aedes, client, packet, callback);
  };

  aedes.on('clientReady', (client) => {
    const connect = asked.get(client);
    asked.delete(client);
    // A client id that cannot be one topic level gets no notice (the registry's ids all can).
    if (!connect || !isDevice(client) || !isTopicLevel(client.id)) return;
    const notice: ConnectionNotice = { clientId: client.id, ...connect, connectedAt: Date.now() };
    aedes.publish(
      {
        cmd: 'publish',
        topic: `${CONNECTIONS_TOPIC_ROOT}/${client.id}`,
        payload: Buffer.from(JSON.stringify(notice)),
        qos: 1,
        retain: true,
        dup: false,
      },
      () => undefined,
    );
  });
}

/** One non-empty topic level: no separator, wildcard or NUL. */
function isTopicLevel(id: string): boolean {
  return id.length > 0 && !/[/+#]/.test(id) && !id.includes('\0');
}

function summary(packet: ConnectPacket): Omit<ConnectionNotice, 'clientId' | 'connectedAt'> {
  const will = packet.will;
  return {
    keepaliveS: packet.keepalive ?? 0,
    clean: packet.clean ?? true,
    protocolVersion: packet.protocolVersion ?? 4,
    will: will
      ? {
          topic: will.topic,
          qos: will.qos ?? 0,
          retain: will.retain ?? false,
          payloadBytes: Buffer.byteLength(will.payload ?? ''),
        }
      : null,
  };
}
