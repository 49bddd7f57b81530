/**
 * The ingest link between the broker and the ingestion: MQTT 3.1.1 on a listener of its own.
 *
 * 1. The ingestion connects (CONNECT: its service account, client id `{account}-{instance}`,
 *    clean session, optionally a will) and subscribes to {@link LINK_TOPIC} at QoS 1.
 * 2. The broker sends batches (see batch.ts) as QoS-1 PUBLISHes on {@link LINK_TOPIC}; at most
 *    the link's window of them unacknowledged at once.
 * 3. The ingestion sends PUBACK for a batch once every message in it is stored (in InfluxDB, in
 *    its fsync'ed spool, or as a dead letter), in the order the batches came ([MQTT-4.6.0-2]).
 *    The broker then releases the devices' PUBACKs of that batch.
 * 4. A batch unacknowledged when its link goes is sent again — to the same instance when it
 *    comes back, or to the instance that now owns its devices.
 * 5. The ingestion may PUBLISH at QoS 0 on topics its role allows (dead letters, Sparkplug
 *    commands); the broker routes them to subscribers like any client's publish.
 */
export const LINK_TOPIC = '$parkpulse/ingest/v1';
export const LINK_PROTOCOL_VERSION = 4;
export const DEFAULT_LINK_PORT = 1884;
