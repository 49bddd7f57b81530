import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InfluxStoreProvider } from '../storage/influx-store.provider.js';

/** How often InfluxDB is pinged, and how long a ping may take before it counts as down. */
export const PING_INTERVAL_MS = 1000;
export const PING_DEADLINE_MS = 1000;

/**
 * Whether InfluxDB answers, known at any moment without waiting for it: pinged in the background
 * every second, one ping at a time. A ping unanswered for a second means down (a hung InfluxDB
 * holds its ping for the whole INFLUX_TIMEOUT_MS), so that `/health` answers at once, from the
 * last known state, whatever InfluxDB does.
 */
@Injectable()
export class InfluxHealth implements OnModuleInit, OnApplicationShutdown {
  private answered = false;
  private pingStartedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly store: InfluxStoreProvider) {}

  onModuleInit(): void {
    this.ping();
    this.timer = setInterval(() => this.ping(), PING_INTERVAL_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** InfluxDB answered its last ping, and no ping has been waiting for longer than the deadline. */
  get up(): boolean {
    const waiting = this.pingStartedAt !== undefined ? Date.now() - this.pingStartedAt : 0;
    return this.answered && waiting < PING_DEADLINE_MS;
  }

  private ping(): void {
    if (this.pingStartedAt !== undefined) return; // the last one still waits: it will tell
    this.pingStartedAt = Date.now();
    void this.store.ping().then((ok) => {
      this.answered = ok;
      this.pingStartedAt = undefined;
    });
  }
}
