import { deriveDeviceKey } from '@parkpulse/access';
import type { CommandMessage } from '@parkpulse/telemetry';
import { SimDevice, type DeviceOptions } from '../device.js';
import type { CommandOutcome } from '../models/commands.js';
import type { FleetDevice } from '../generator.js';
import { createRng } from '../rng.js';

/** How simulated devices log in. */
export interface DeviceLogin {
  /**
   * Key of the enrolment group the devices belong to: each device logs in with its id and
   * its derived key (docs/security.md). Takes precedence over username/password.
   */
  readonly groupKey?: string;
  /** One login shared by every device (brokers without per-device keys). */
  readonly username?: string;
  readonly password?: string;
}

/** The username/password a device sends, if any. */
export function loginOf(
  deviceId: string,
  login: DeviceLogin,
): { username: string; password: string } | Record<string, never> {
  if (login.groupKey)
    return { username: deviceId, password: deriveDeviceKey(login.groupKey, deviceId) };
  if (login.username) return { username: login.username, password: login.password ?? '' };
  return {};
}

export interface FleetConnection extends DeviceLogin {
  readonly url: string;
  readonly seed?: number;
  readonly onConnect?: DeviceOptions['onConnect'];
  readonly bufferLimit?: number;
  /** How device `index` of the fleet handles a command (run mode: its model). */
  readonly onCommand?: (index: number, command: CommandMessage) => CommandOutcome;
  /** Create the devices without connecting them (they buffer until connect()). */
  readonly offline?: boolean;
}

/** One SimDevice per fleet device, connected in waves of 50 (a real fleet does not arrive in one millisecond). */
export async function connectFleet(
  fleet: readonly FleetDevice[],
  options: FleetConnection,
  latencies: number[],
): Promise<SimDevice[]> {
  const rng = createRng((options.seed ?? 1) ^ 0xc0ffee);
  const devices = fleet.map(
    (d) =>
      new SimDevice(
        { park: d.park, site: d.site, assetType: d.asset.id, deviceId: d.deviceId },
        {
          url: options.url,
          ...loginOf(d.deviceId, options),
          rng,
          latencies,
          ...(options.onConnect ? { onConnect: options.onConnect } : {}),
          ...(options.bufferLimit ? { bufferLimit: options.bufferLimit } : {}),
          ...(options.onCommand
            ? { onCommand: (c: CommandMessage) => options.onCommand!(d.index, c) }
            : {}),
        },
      ),
  );
  if (!options.offline) await connectInWaves(devices);
  return devices;
}

/** Connects devices 50 at a time. */
export async function connectInWaves(devices: readonly SimDevice[]): Promise<void> {
  for (let i = 0; i < devices.length; i += 50)
    await Promise.all(devices.slice(i, i + 50).map((d) => d.connect()));
}

/** Waits until every device has its acknowledgements (or `timeoutMs` passes). */
export async function settle(devices: readonly SimDevice[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (devices.some((d) => !d.settled) && Date.now() < deadline) await sleep(20);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
