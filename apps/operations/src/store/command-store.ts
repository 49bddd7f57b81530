import type { AlarmPriority, AlarmState, AlarmStatus, ConditionState } from '@parkpulse/alarms';
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
  /** Every alarm that ever left `normal` (the evaluator's state at start-up). */
  listAlarms(): Promise<AlarmRecord[]>;
  /**
   * Stores an alarm if its stored version is still `alarm.version - 1` (0: not stored yet), with
   * its history row, in one transaction; false when someone else changed it first.
   */
  saveAlarm(alarm: AlarmRecord, event: AlarmEventRecord): Promise<boolean>;
  /** An alarm's history, oldest first (the last `limit`). */
  alarmHistory(alarmId: string, limit: number): Promise<AlarmEventRecord[]>;
  /** A device's alarm history, newest first. */
  deviceAlarmEvents(deviceId: string, limit: number): Promise<AlarmEventRecord[]>;
  /** Annunciated activations (to `unacknowledged` by `activate`) after `since`, oldest first. */
  alarmActivations(since: number): Promise<AlarmEventRecord[]>;
  close(): Promise<void>;
}

/** An alarm (one definition on one device) as stored. */
export interface AlarmRecord {
  readonly id: string;
  readonly definitionId: string;
  readonly park: string;
  readonly site: string;
  readonly assetType: string;
  readonly deviceId: string;
  /** What it shows (a column, for queries), derived from `status`. */
  readonly state: AlarmState;
  readonly priority: AlarmPriority;
  readonly status: AlarmStatus;
  readonly condition: ConditionState;
  /** The last value the condition saw (null for presence and events). */
  readonly value: number | boolean | string | null;
  readonly updatedAt: number;
  /** 1 on the first save, +1 on each. */
  readonly version: number;
}

/** One transition or comment in an alarm's history: who, when, what, why. */
export interface AlarmEventRecord {
  readonly alarmId: string;
  readonly deviceId: string;
  readonly at: number;
  readonly by: string;
  /** The lifecycle event (`activate`, `acknowledge`, `shelve` …) or `comment`. */
  readonly action: string;
  readonly fromState: AlarmState;
  readonly toState: AlarmState;
  readonly priority: AlarmPriority;
  readonly comment: string;
  readonly value: number | boolean | string | null;
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
    {
      version: 2,
      sql: [
        `CREATE TABLE alarms (
          id TEXT PRIMARY KEY,
          definition_id TEXT NOT NULL,
          park TEXT NOT NULL,
          site TEXT NOT NULL,
          asset_type TEXT NOT NULL,
          device_id TEXT NOT NULL,
          state TEXT NOT NULL,
          priority TEXT NOT NULL,
          status TEXT NOT NULL,
          condition TEXT NOT NULL,
          value TEXT NOT NULL,
          updated_at BIGINT NOT NULL,
          version INTEGER NOT NULL
        )`,
        'CREATE INDEX alarms_device ON alarms (device_id)',
        `CREATE TABLE alarm_events (
          alarm_id TEXT NOT NULL REFERENCES alarms (id),
          seq INTEGER NOT NULL,
          device_id TEXT NOT NULL,
          at BIGINT NOT NULL,
          actor TEXT NOT NULL,
          action TEXT NOT NULL,
          from_state TEXT NOT NULL,
          to_state TEXT NOT NULL,
          priority TEXT NOT NULL,
          comment TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (alarm_id, seq)
        )`,
        'CREATE INDEX alarm_events_at ON alarm_events (action, at)',
        'CREATE INDEX alarm_events_device ON alarm_events (device_id, at)',
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

export const ALARM_COLUMNS =
  'id, definition_id, park, site, asset_type, device_id, state, priority, status, condition, value, updated_at, version';

export interface AlarmRow {
  id: string;
  definition_id: string;
  park: string;
  site: string;
  asset_type: string;
  device_id: string;
  state: string;
  priority: string;
  status: string;
  condition: string;
  value: string;
  updated_at: number | string;
  version: number | string;
}

export function alarmValues(a: AlarmRecord): unknown[] {
  return [
    a.id,
    a.definitionId,
    a.park,
    a.site,
    a.assetType,
    a.deviceId,
    a.state,
    a.priority,
    JSON.stringify(a.status),
    JSON.stringify(a.condition),
    JSON.stringify(a.value),
    a.updatedAt,
    a.version,
  ];
}

export function toAlarm(row: AlarmRow): AlarmRecord {
  return {
    id: row.id,
    definitionId: row.definition_id,
    park: row.park,
    site: row.site,
    assetType: row.asset_type,
    deviceId: row.device_id,
    state: row.state as AlarmState,
    priority: row.priority as AlarmPriority,
    status: JSON.parse(row.status) as AlarmStatus,
    condition: JSON.parse(row.condition) as ConditionState,
    value: JSON.parse(row.value) as AlarmRecord['value'],
    updatedAt: Number(row.updated_at),
    version: Number(row.version),
  };
}

export const ALARM_EVENT_COLUMNS =
  'alarm_id, device_id, at, actor, action, from_state, to_state, priority, comment, value';

export interface AlarmEventRow {
  alarm_id: string;
  device_id: string;
  at: number | string;
  actor: string;
  action: string;
  from_state: string;
  to_state: string;
  priority: string;
  comment: string;
  value: string;
}

export function alarmEventValues(e: AlarmEventRecord): unknown[] {
  return [
    e.alarmId,
    e.deviceId,
    e.at,
    e.by,
    e.action,
    e.fromState,
    e.toState,
    e.priority,
    e.comment,
    JSON.stringify(e.value),
  ];
}

export function toAlarmEvent(row: AlarmEventRow): AlarmEventRecord {
  return {
    alarmId: row.alarm_id,
    deviceId: row.device_id,
    at: Number(row.at),
    by: row.actor,
    action: row.action,
    fromState: row.from_state as AlarmState,
    toState: row.to_state as AlarmState,
    priority: row.priority as AlarmPriority,
    comment: row.comment,
    value: JSON.parse(row.value) as AlarmEventRecord['value'],
  };
}
