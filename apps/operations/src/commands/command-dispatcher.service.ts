import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { formatTopic, type CommandMessage, type ParkId } from '@parkpulse/telemetry';
import { OPERATIONS_CONFIG, type OperationsConfig } from '../config/operations-config.js';
import { DeviceDirectory } from '../devices/device-directory.service.js';
import { MqttLinkService } from '../mqtt/mqtt-link.service.js';
import type { CommandRecord, CommandStore } from '../store/command-store.js';
import { COMMAND_STORE } from '../store/store.module.js';
import { CommandTracker } from './command-tracker.service.js';
import { OperationsMetrics } from '../metrics/operations-metrics.service.js';

/**
 * Moves open commands along, from the database (so a restart loses nothing):
 * - past its deadline, any open command expires (saying how far it got);
 * - a queued command goes out when its device is online (the service holds commands for offline
 *   devices itself: a broker restart or a device without a persistent session loses nothing);
 * - a command published but not confirmed delivered after REDELIVER_AFTER_MS, or whose device
 *   went offline meanwhile, is queued again and published again (devices ignore a repeated id).
 * A pass runs every DISPATCH_INTERVAL_MS, and at once when a command is created or a device
 * comes online.
 */
@Injectable()
export class CommandDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Dispatcher');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    @Inject(OPERATIONS_CONFIG) private readonly config: OperationsConfig,
    @Inject(COMMAND_STORE) private readonly store: CommandStore,
    private readonly tracker: CommandTracker,
    private readonly directory: DeviceDirectory,
    private readonly mqtt: MqttLinkService,
    private readonly metrics: OperationsMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const open = await this.store.listOpen();
    if (open.length > 0) {
      const by = new Map<string, number>();
      for (const c of open) by.set(c.state, (by.get(c.state) ?? 0) + 1);
      this.log.log(
        `resuming ${open.length} open command(s): ${[...by].map(([s, n]) => `${n} ${s}`).join(', ')}`,
      );
    }
    this.directory.onOnline(() => this.kick());
    this.timer = setInterval(() => this.kick(), this.config.commands.dispatchIntervalMs);
    this.kick();
  }

  /** Runs a pass now (or right after the one running). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again && !this.stopped);
      } catch (error) {
        this.log.error(`dispatch pass failed: ${(error as Error).message}`);
      } finally {
        this.running = undefined;
      }
    })();
  }

  private async pass(): Promise<void> {
    const now = Date.now();
    for (const c of await this.store.listOpen()) {
      if (this.stopped) return;
      if (c.expiresAt <= now) {
        await this.tracker.apply(
          c,
          'expire',
          'system',
          expiryDetail(c, this.directory.isOnline(c.deviceId)),
          {
            at: Math.max(now, c.expiresAt),
          },
        );
        continue;
      }
      const online = this.mqtt.ready && this.directory.isOnline(c.deviceId);
      if (c.state === 'queued' && online) {
        await this.send(c);
      } else if (c.state === 'sent' && !this.directory.isOnline(c.deviceId)) {
        await this.tracker.apply(
          c,
          'requeue',
          'system',
          'the device went offline before confirming the delivery',
        );
      } else if (c.state === 'sent' && now - c.updatedAt >= this.config.commands.redeliverAfterMs) {
        const r = await this.tracker.apply(
          c,
          'requeue',
          'system',
          `no delivery confirmed within ${this.config.commands.redeliverAfterMs} ms: publishing again`,
        );
        if (r.ok && online) await this.send(r.command);
      }
    }
  }

  private async send(c: CommandRecord): Promise<void> {
    const r = await this.tracker.apply(
      c,
      'publish',
      'system',
      `published (attempt ${c.attempts + 1})`,
      {
        published: true,
      },
    );
    if (!r.ok) return;
    const message: CommandMessage = {
      id: c.id,
      name: c.name,
      params: c.params,
      expiresAt: c.expiresAt,
      issuedAt: c.createdAt,
    };
    const topic = formatTopic({
      park: c.park as ParkId,
      site: c.site,
      assetType: c.assetType,
      deviceId: c.deviceId,
      channel: 'cmd',
    });
    try {
      await this.mqtt.publish(topic, JSON.stringify(message));
      this.metrics.published.inc();
    } catch (error) {
      this.metrics.publishFailed.inc();
      await this.tracker.apply(
        r.command,
        'requeue',
        'system',
        `publish failed: ${(error as Error).message}`,
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}

function expiryDetail(c: CommandRecord, online: boolean): string {
  switch (c.state) {
    case 'queued':
      return c.attempts === 0
        ? online
          ? 'never sent before its deadline'
          : 'the device stayed offline until the deadline'
        : 'sent but never confirmed delivered before the deadline';
    case 'sent':
      return 'sent but never confirmed delivered before the deadline';
    case 'delivered':
      return 'delivered, but the device did not answer before the deadline';
    case 'accepted':
      return 'accepted, but the device did not report it finished before the deadline';
    default:
      return 'deadline passed';
  }
}
