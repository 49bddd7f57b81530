import { createHash } from 'node:crypto';

/**
 * Which ingestion instance stores a device's messages. Everything a device (or a Sparkplug edge
 * node, whose seq and aliases span its devices) sends goes to one instance, so that the delivery
 * ledger and presence of a device live in one process.
 */

/** The partition key of a message: the device id of the topic contract, a Sparkplug edge node, or else the client id. */
export function partitionKey(topic: string, clientId: string): string {
  const levels = topic.split('/', 6);
  // parks/{park}/{site}/{assetType}/{deviceId}/…
  if (levels[0] === 'parks' && levels.length >= 5 && levels[4]) return levels[4];
  // spBv1.0/{group}/{messageType}/{edgeNode}[/{device}]
  if (levels[0] === 'spBv1.0' && levels.length >= 4 && levels[1] !== 'STATE')
    return `spBv1.0/${levels[1]}/${levels[3]}`;
  return clientId || topic;
}

/**
 * Rendezvous (highest random weight) hashing: the instance whose hash with the key is highest.
 * When an instance leaves, only the keys it owned move (each to the next highest); when one
 * joins, it takes about 1/n of the keys. Deterministic: every broker node and restart agrees.
 */
export function ownerOf<T extends string>(key: string, instances: readonly T[]): T | undefined {
  let best: T | undefined;
  let bestWeight = -1n;
  for (const instance of instances) {
    const weight = createHash('sha1')
      .update(instance)
      .update('\0')
      .update(key)
      .digest()
      .readBigUInt64BE(0);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && instance < best)) {
      best = instance;
      bestWeight = weight;
    }
  }
  return best;
}
