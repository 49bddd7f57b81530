import Denque from 'denque';
import mqemitter from 'mqemitter';

/** What Aedes gives its own emitter (aedes.js): 100 deliveries at once, empty topic levels match. */
const AEDES_CONCURRENCY = 100;

/** Those options, for emitters built on mqemitter (mqemitter-redis). */
export const AEDES_EMITTER_OPTIONS = { concurrency: AEDES_CONCURRENCY, matchEmptyLevels: true };

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
  return withDequeBacklog(mqemitter({ ...AEDES_EMITTER_OPTIONS }));
}

/**
 * Puts the backlog of an mqemitter 7.1 instance — or of an emitter built on it, such as
 * mqemitter-redis, whose messages coming back from Redis go through the same queue — in
 * double-ended queues (see createEmitter).
 */
export function withDequeBacklog<T extends mqemitter.MQEmitter>(mq: T): T {
  const internals = mq as unknown as QueueInternals;
  if (!Array.isArray(internals._messageQueue) || !Array.isArray(internals._messageCallbacks))
    throw new Error('mqemitter internals changed: update createEmitter() for this version');
  internals._messageQueue = new Denque();
  internals._messageCallbacks = new Denque();
  return withBoundedRecursion(mq);
}

/** Nested deliveries after which the backlog is resumed from a fresh stack (setImmediate). */
export const MAX_NESTED_DELIVERIES = 64;

interface DeliveryInternals {
  current: number;
  /** Whether a delivery is under way (mqemitter warns of a leak on an emit when not). */
  _doing: boolean;
  _do: (this: DeliveryInternals, message: unknown, callback: unknown) => unknown;
}

/** Deferred starts run at most this many per event-loop turn, so I/O is read between them. */
const DEFERRED_PER_TURN = 1_024;

/**
 * mqemitter takes the next message from its backlog inside the callback of the one that just
 * completed. A message that matches no subscription completes at once, synchronously, so a
 * backlog of them is drained by recursion, one stack frame chain per message: 2,500 were enough
 * for `RangeError: Maximum call stack size exceeded`, which killed the broker (publishers
 * flooding a topic nobody reads; upstream: mcollina/mqemitter#204, open). Past
 * {@link MAX_NESTED_DELIVERIES} nested starts, the next one is deferred to a fresh stack; its
 * concurrency slot stays taken meanwhile.
 *
 * Deferred starts keep their order, and while any waits every later start queues behind it:
 * Aedes drops a delivery whose broker counter is not above the last one its client got
 * (`dedupe` in aedes/lib/client.js), so a message overtaking an earlier one would make the earlier
 * one vanish, silently, for every subscriber of both.
 */
export function withBoundedRecursion<T extends mqemitter.MQEmitter>(mq: T): T {
  const internals = mq as unknown as DeliveryInternals;
  const start = internals._do;
  if (typeof start !== 'function')
    throw new Error('mqemitter internals changed: update withBoundedRecursion() for this version');
  let depth = 0;
  const deferred = new Denque<readonly [unknown, unknown]>();
  let scheduled = false;
  const run = (message: unknown, callback: unknown) => {
    depth++;
    try {
      return start.call(internals, message, callback);
    } finally {
      depth--;
    }
  };
  const drain = () => {
    // Starts made meanwhile (by the deliveries started here) queue behind: no recursion.
    for (let i = 0; i < DEFERRED_PER_TURN && deferred.length > 0; i++) {
      const [message, callback] = deferred.shift()!;
      internals.current--;
      run(message, callback);
    }
    if (deferred.length > 0) setImmediate(drain);
    else scheduled = false;
  };
  internals._do = function (this: DeliveryInternals, message: unknown, callback: unknown) {
    if (scheduled || depth >= MAX_NESTED_DELIVERIES) {
      this.current++; // its slot stays taken while it waits
      this._doing = true;
      deferred.push([message, callback]);
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
      return this;
    }
    return run(message, callback);
  };
  return mq;
}
