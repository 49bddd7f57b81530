import Denque from 'denque';
import mqemitter from 'mqemitter';

/** What Aedes gives its own emitter (aedes.js): 100 deliveries at once, empty topic levels match. */
const AEDES_CONCURRENCY = 100;

interface QueueInternals {
  _messageQueue: unknown;
  _messageCallbacks: unknown;
}

/**
 * Aedes' message emitter (mqemitter, as Aedes creates it) with its backlog in double-ended queues.
 *
 * When more than `concurrency` deliveries are under way, mqemitter queues further messages in two
 * arrays and takes each one back with `Array.shift()`, which moves the whole array: under
 * overload the backlog grows, every shift gets dearer and the broker spent 39 % of its CPU there
 * at 30,000 msg/s offered, so it fell further behind. Denque's shift is O(1) and its push/shift/
 * length are what mqemitter uses. The two fields are mqemitter internals: the version is pinned,
 * and this throws at start-up if they are not where 7.1 keeps them.
 */
export function createEmitter(): mqemitter.MQEmitter {
  const mq = mqemitter({ concurrency: AEDES_CONCURRENCY, matchEmptyLevels: true });
  const internals = mq as unknown as QueueInternals;
  if (!Array.isArray(internals._messageQueue) || !Array.isArray(internals._messageCallbacks))
    throw new Error('mqemitter internals changed: update createEmitter() for this version');
  internals._messageQueue = new Denque();
  internals._messageCallbacks = new Denque();
  return mq;
}
