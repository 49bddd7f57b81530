import { getAssetType } from './catalogue/index.js';
import type { ParsedTopic } from './topic.js';

export const PRESENCE_STATES = ['online', 'stale', 'offline', 'flapping'] as const;
export type PresenceState = (typeof PRESENCE_STATES)[number];

export interface PresenceRules {
  /** Silent for this many report intervals (of its asset type) while connected = stale. */
  readonly staleIntervals: number;
  /** … but never stale before this long (fast reporters would flicker otherwise), ms. */
  readonly minStaleMs: number;
  /** This many connection changes within `flapWindowMs` = flapping. */
  readonly flapChanges: number;
  readonly flapWindowMs: number;
}

export const DEFAULT_PRESENCE_RULES: PresenceRules = {
  staleIntervals: 3,
  minStaleMs: 30_000,
  flapChanges: 6,
  flapWindowMs: 10 * 60_000,
};

/** Report interval of an asset type not in the catalogue. */
const UNKNOWN_INTERVAL_MS = 60_000;

interface DeviceState {
  topic: ParsedTopic;
  connected: boolean | undefined;
  /** When the device last sent telemetry, or connected (arrival time, ms). */
  lastSeen: number;
  changes: number[];
  state: PresenceState | undefined;
  readonly staleAfterMs: number;
}

export interface PresenceChange {
  readonly topic: ParsedTopic;
  readonly state: PresenceState;
}

/**
 * Presence per device from what the broker and the device tell: connect and disconnect (its
 * `status` channel, `offline` also as last will), the arrival of telemetry, and its asset type's
 * expected reporting interval (catalogue). States: `online`; `stale` (connected, but silent for
 * `staleIntervals` intervals); `offline`; `flapping` (`flapChanges` connection changes within
 * `flapWindowMs`). Pure bookkeeping on the caller's clock.
 */
export class PresenceTracker {
  private readonly devices = new Map<string, DeviceState>();

  constructor(private readonly rules: PresenceRules = DEFAULT_PRESENCE_RULES) {}

  private device(topic: ParsedTopic, now: number): DeviceState {
    const key = `${topic.park}/${topic.site}/${topic.deviceId}`;
    let d = this.devices.get(key);
    if (!d) {
      const intervalS = getAssetType(topic.assetType)?.reportIntervalS;
      const intervalMs = intervalS === undefined ? UNKNOWN_INTERVAL_MS : intervalS * 1000;
      d = {
        topic,
        connected: undefined,
        lastSeen: now,
        changes: [],
        state: undefined,
        staleAfterMs: Math.max(this.rules.minStaleMs, this.rules.staleIntervals * intervalMs),
      };
      this.devices.set(key, d);
    }
    return d;
  }

  /** The device connected (`online`) or disconnected / its last will was published. */
  status(topic: ParsedTopic, online: boolean, now: number): void {
    const d = this.device(topic, now);
    if (d.connected !== undefined && d.connected !== online) d.changes.push(now);
    d.connected = online;
    if (online) d.lastSeen = now;
  }

  /** Telemetry arrived from the device. */
  seen(topic: ParsedTopic, now: number): void {
    this.device(topic, now).lastSeen = now;
  }

  /** Every device whose state changed since the last call (a new device counts as changed). */
  evaluate(now: number): PresenceChange[] {
    const changed: PresenceChange[] = [];
    for (const d of this.devices.values()) {
      const state = this.stateOf(d, now);
      if (state !== d.state) {
        d.state = state;
        changed.push({ topic: d.topic, state });
      }
    }
    return changed;
  }

  /** Devices per park and state, as of the last `evaluate`. */
  counts(): Map<string, Record<PresenceState, number>> {
    const out = new Map<string, Record<PresenceState, number>>();
    for (const d of this.devices.values()) {
      if (!d.state) continue;
      let c = out.get(d.topic.park);
      if (!c) out.set(d.topic.park, (c = { online: 0, stale: 0, offline: 0, flapping: 0 }));
      c[d.state]++;
    }
    return out;
  }

  private stateOf(d: DeviceState, now: number): PresenceState {
    const since = now - this.rules.flapWindowMs;
    while (d.changes.length > 0 && (d.changes[0] ?? 0) < since) d.changes.shift();
    if (d.changes.length >= this.rules.flapChanges) return 'flapping';
    if (d.connected === false) return 'offline';
    return now - d.lastSeen > d.staleAfterMs ? 'stale' : 'online';
  }
}
