import {
  encodeSparkplugPayload,
  formatSparkplugTopic,
  SPARKPLUG_DATATYPES,
} from '@parkpulse/telemetry';

/** An MQTT message the host wants published (through the broker). */
export interface SparkplugPublish {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

/** The host application's STATE birth and death (Sparkplug 3.0, "Host Application Session Establishment"). */
export interface HostStateMessages {
  /** Publish right after the CONNACK. */
  readonly birth: SparkplugPublish;
  /** Register as the MQTT will of the CONNECT, and publish it before an intentional disconnect. */
  readonly death: SparkplugPublish;
}

/**
 * `spBv1.0/STATE/{hostId}`, JSON `{"online": true|false, "timestamp": connectedAt}`, QoS 1,
 * retained. Both carry the timestamp of the CONNECT: the birth's must match the will's
 * [tck-id-host-topic-phid-birth-payload-timestamp], and an edge node that sees a death with a
 * timestamp older than the birth it has ignores it (stale will).
 */
export function hostStateMessages(hostId: string, connectedAt: number): HostStateMessages {
  const topic = formatSparkplugTopic({ kind: 'state', hostId });
  const payload = (online: boolean) =>
    Buffer.from(JSON.stringify({ online, timestamp: connectedAt }), 'utf8');
  return {
    birth: { topic, payload: payload(true), qos: 1, retain: true },
    death: { topic, payload: payload(false), qos: 1, retain: true },
  };
}

/**
 * A rebirth request: NCMD to the edge node with the Boolean metric `Node Control/Rebirth` =
 * true, a timestamp and no seq, QoS 0, not retained
 * [tck-id-operational-behavior-data-commands-ncmd-rebirth-verb/-name/-value,
 * tck-id-payloads-ncmd-timestamp, tck-id-payloads-ncmd-seq, tck-id-payloads-ncmd-qos,
 * tck-id-payloads-ncmd-retain].
 */
export function rebirthRequest(group: string, node: string, now: number): SparkplugPublish {
  return {
    topic: formatSparkplugTopic({ kind: 'node', group, verb: 'NCMD', node }),
    payload: encodeSparkplugPayload({
      timestamp: now,
      metrics: [
        {
          name: 'Node Control/Rebirth',
          timestamp: now,
          datatype: SPARKPLUG_DATATYPES.Boolean,
          value: true,
        },
      ],
    }),
    qos: 0,
    retain: false,
  };
}
