import type { CommandParams } from '@parkpulse/telemetry';
import type { CommandState } from './state-machine.js';

/** The contract between the operations service's REST API and its clients (CLI, tests, UI). */

export const USER_ROLES = ['viewer', 'operator', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Who may do what: viewers read, operators also send and cancel, admins also manage accounts. */
export function roleAllows(role: UserRole, needed: UserRole): boolean {
  return USER_ROLES.indexOf(role) >= USER_ROLES.indexOf(needed);
}

export interface CommandHistoryEntry {
  readonly state: CommandState;
  /** RFC 3339. */
  readonly at: string;
  /** A person's user name, `device:{id}`, `broker` or `system` (expiry, restart). */
  readonly by: string;
  readonly detail: string;
}

export interface CommandView {
  readonly id: string;
  readonly park: string;
  readonly site: string;
  readonly assetType: string;
  readonly deviceId: string;
  readonly name: string;
  readonly params: CommandParams;
  readonly state: CommandState;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly updatedAt: string;
  /** What the device reported with `done` / `failed` / `rejected`. */
  readonly result: CommandParams;
  readonly reason: string;
  readonly history: readonly CommandHistoryEntry[];
}

export interface TokenView {
  readonly token: string;
  readonly expiresAt: string;
  readonly username: string;
  readonly role: UserRole;
}

export interface DeviceView {
  readonly park: string;
  readonly site: string;
  readonly assetType: string;
  readonly deviceId: string;
  readonly online: boolean;
  readonly since: string;
}

/** The error body of every 4xx/5xx answer. */
export interface ApiError {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
}
