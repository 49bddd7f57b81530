import type { CommandState, UserRole } from '@parkpulse/commands';
import type { CommandParams } from '@parkpulse/telemetry';

/** A command as stored. Times are epoch ms. */
export interface CommandRecord {
  readonly id: string;
  readonly park: string;
  readonly site: string;
  readonly assetType: string;
  readonly deviceId: string;
  readonly name: string;
  readonly params: CommandParams;
  readonly state: CommandState;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly updatedAt: number;
  readonly result: CommandParams;
  readonly reason: string;
  /** How many times it was published to the broker. */
  readonly attempts: number;
}

export interface HistoryRecord {
  readonly state: CommandState;
  readonly at: number;
  readonly by: string;
  readonly detail: string;
}

/** A state change to record, only if the command is still in `from` (compare-and-set). */
export interface StateChange {
  readonly from: CommandState;
  readonly to: CommandState;
  readonly at: number;
  readonly by: string;
  readonly detail: string;
  readonly result?: CommandParams;
  readonly reason?: string;
  /** Count one more publication. */
  readonly published?: boolean;
}

export interface UserRecord {
  readonly username: string;
  readonly passwordHash: string;
  readonly role: UserRole;
  readonly createdAt: number;
}

export interface TokenRecord {
  /** sha256 of the bearer token (the token itself is never stored). */
  readonly tokenHash: string;
  readonly username: string;
  readonly expiresAt: number;
}

/**
 * Everything the operations service keeps, behind one interface: SQLite (embedded, the default)
 * and PostgreSQL implement it, and one contract suite (command-store.contract.ts) runs against
 * both. Every state change is a compare-and-set on the current state plus a history row, in one
 * transaction: two instances, or a restart racing a late answer, never record a change twice.
 */
export interface CommandStore {
  readonly driver: 'sqlite' | 'postgres';
  /** Applies the migrations this build knows and has not yet applied; returns the schema version. */
  migrate(): Promise<number>;
  /** Inserts new commands (state `queued`) with their first history row, all or none. */
  insertCommands(commands: readonly CommandRecord[], detail: string): Promise<void>;
  getCommand(id: string): Promise<CommandRecord | undefined>;
  history(id: string): Promise<HistoryRecord[]>;
  /** A device's commands, newest first. */
  listByDevice(deviceId: string, limit: number): Promise<CommandRecord[]>;
  /** Every command not in a terminal state, oldest first. */
  listOpen(): Promise<CommandRecord[]>;
  /** Applies `change` if the command is still in `change.from`; false when it was not. */
  changeState(id: string, change: StateChange): Promise<boolean>;
  createUser(user: UserRecord): Promise<boolean>;
  getUser(username: string): Promise<UserRecord | undefined>;
  insertToken(token: TokenRecord): Promise<void>;
  getToken(tokenHash: string): Promise<TokenRecord | undefined>;
  deleteExpiredTokens(now: number): Promise<number>;
  close(): Promise<void>;
}

/** The schema, one entry per version, in the dialect both databases accept. */
export const MIGRATIONS: readonly { readonly version: number; readonly sql: readonly string[] }[] =
  [
    {
      version: 1,
      sql: [
        `CREATE TABLE commands (
          id TEXT PRIMARY KEY,
          park TEXT NOT NULL,
          site TEXT NOT NULL,
          asset_type TEXT NOT NULL,
          device_id TEXT NOT NULL,
          name TEXT NOT NULL,
          params TEXT NOT NULL,
          state TEXT NOT NULL,
          created_by TEXT NOT NULL,
          created_at BIGINT NOT NULL,
          expires_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL,
          result TEXT NOT NULL DEFAULT '{}',
          reason TEXT NOT NULL DEFAULT '',
          attempts INTEGER NOT NULL DEFAULT 0
        )`,
        'CREATE INDEX commands_device ON commands (device_id, created_at)',
        'CREATE INDEX commands_open ON commands (state, expires_at)',
        `CREATE TABLE command_history (
          command_id TEXT NOT NULL REFERENCES commands (id),
          seq INTEGER NOT NULL,
          state TEXT NOT NULL,
          at BIGINT NOT NULL,
          actor TEXT NOT NULL,
          detail TEXT NOT NULL,
          PRIMARY KEY (command_id, seq)
        )`,
        `CREATE TABLE users (
          username TEXT PRIMARY KEY,
          password_hash TEXT NOT NULL,
          role TEXT NOT NULL,
          created_at BIGINT NOT NULL
        )`,
        `CREATE TABLE tokens (
          token_hash TEXT PRIMARY KEY,
          username TEXT NOT NULL REFERENCES users (username),
          expires_at BIGINT NOT NULL
        )`,
      ],
    },
  ];

export const OPEN_STATES = ['queued', 'sent', 'delivered', 'accepted'] as const;

/** A row as both drivers return it (BIGINT may arrive as a string from PostgreSQL). */
export interface CommandRow {
  id: string;
  park: string;
  site: string;
  asset_type: string;
  device_id: string;
  name: string;
  params: string;
  state: string;
  created_by: string;
  created_at: number | string;
  expires_at: number | string;
  updated_at: number | string;
  result: string;
  reason: string;
  attempts: number | string;
}

export function toCommand(row: CommandRow): CommandRecord {
  return {
    id: row.id,
    park: row.park,
    site: row.site,
    assetType: row.asset_type,
    deviceId: row.device_id,
    name: row.name,
    params: JSON.parse(row.params) as CommandParams,
    state: row.state as CommandState,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    updatedAt: Number(row.updated_at),
    result: JSON.parse(row.result) as CommandParams,
    reason: row.reason,
    attempts: Number(row.attempts),
  };
}

export function commandValues(c: CommandRecord): unknown[] {
  return [
    c.id,
    c.park,
    c.site,
    c.assetType,
    c.deviceId,
    c.name,
    JSON.stringify(c.params),
    c.state,
    c.createdBy,
    c.createdAt,
    c.expiresAt,
    c.updatedAt,
    JSON.stringify(c.result),
    c.reason,
    c.attempts,
  ];
}

export const COMMAND_COLUMNS =
  'id, park, site, asset_type, device_id, name, params, state, created_by, created_at, expires_at, updated_at, result, reason, attempts';
