import { Injectable } from '@nestjs/common';
import type { FieldLike } from '@parkpulse/alarms';
import type { EventMessage } from '@parkpulse/telemetry';

export interface DeviceSnapshot {
  readonly park: string;
  readonly site: string;
  readonly assetType: string;
  readonly deviceId: string;
  /** Metric → last value and when it was sampled. */
  readonly values: Record<string, { value: FieldLike; at: number }>;
  readonly events: { at: number; code: string; severity: string; message: string }[];
}

const RECENT_EVENTS = 20;

/** The last value of every metric and the recent events of each device (for the device view). */
@Injectable()
export class DeviceState {
  private readonly devices = new Map<string, DeviceSnapshot>();

  private entry(a: { park: string; site: string; assetType: string; deviceId: string }) {
    let d = this.devices.get(a.deviceId);
    if (!d || d.assetType !== a.assetType || d.park !== a.park || d.site !== a.site) {
      d = { ...a, values: {}, events: [] };
      this.devices.set(a.deviceId, d);
    }
    return d;
  }

  sample(
    address: { park: string; site: string; assetType: string; deviceId: string },
    fields: Readonly<Record<string, FieldLike>>,
    at: number,
  ): void {
    const d = this.entry(address);
    for (const [k, v] of Object.entries(fields)) {
      const known = d.values[k];
      if (!known || known.at <= at) d.values[k] = { value: v, at };
    }
  }

  event(
    address: { park: string; site: string; assetType: string; deviceId: string },
    e: EventMessage,
  ): void {
    const d = this.entry(address);
    d.events.unshift({ at: e.ts, code: e.code, severity: e.severity, message: e.message });
    d.events.length = Math.min(d.events.length, RECENT_EVENTS);
  }

  get(deviceId: string): DeviceSnapshot | undefined {
    return this.devices.get(deviceId);
  }
}
