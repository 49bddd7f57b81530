import { Injectable } from '@nestjs/common';
import type { ParkId, TopicAddress } from '@parkpulse/telemetry';

export interface DeviceEntry {
  readonly park: ParkId;
  readonly site: string;
  readonly assetType: string;
  readonly deviceId: string;
  online: boolean;
  since: number;
}

/**
 * The devices the service knows and whether they are online, from their retained `status`
 * (`online`, and the last will `offline`): a device that never announced itself is unknown, and
 * a command to it is refused. Presence decides when a queued command goes out.
 */
@Injectable()
export class DeviceDirectory {
  private readonly devices = new Map<string, DeviceEntry>();
  private readonly listeners: ((device: DeviceEntry) => void)[] = [];

  /** Records a status; tells the listeners when a device comes online. */
  status(topic: TopicAddress, online: boolean, at: number): void {
    const known = this.devices.get(topic.deviceId);
    const moved =
      known &&
      (known.park !== topic.park ||
        known.site !== topic.site ||
        known.assetType !== topic.assetType);
    if (!known || moved) {
      const entry: DeviceEntry = {
        park: topic.park,
        site: topic.site,
        assetType: topic.assetType,
        deviceId: topic.deviceId,
        online,
        since: at,
      };
      this.devices.set(topic.deviceId, entry);
      if (online) for (const l of this.listeners) l(entry);
      return;
    }
    if (known.online === online) return;
    known.online = online;
    known.since = at;
    if (online) for (const l of this.listeners) l(known);
  }

  onOnline(listener: (device: DeviceEntry) => void): void {
    this.listeners.push(listener);
  }

  get(deviceId: string): DeviceEntry | undefined {
    return this.devices.get(deviceId);
  }

  isOnline(deviceId: string): boolean {
    return this.devices.get(deviceId)?.online ?? false;
  }

  select(filter: { park?: string; site?: string; assetType?: string }): DeviceEntry[] {
    return [...this.devices.values()]
      .filter(
        (d) =>
          (!filter.park || d.park === filter.park) &&
          (!filter.site || d.site === filter.site) &&
          (!filter.assetType || d.assetType === filter.assetType),
      )
      .sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }
}
