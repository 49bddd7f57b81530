import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { UserRole } from '@parkpulse/commands';
import {
  ALARM_COLUMNS,
  ALARM_EVENT_COLUMNS,
  alarmEventValues,
  alarmValues,
  toAlarm,
  toAlarmEvent,
  type AlarmEventRecord,
  type AlarmEventRow,
  type AlarmRecord,
  type AlarmRow,
  COMMAND_COLUMNS,
  MIGRATIONS,
  OPEN_STATES,
  commandValues,
  toCommand,
  type CommandRecord,
  type CommandRow,
  type CommandStore,
  type HistoryRecord,
  type StateChange,
  type TokenRecord,
  type UserRecord,
} from './command-store.js';

const OPEN = OPEN_STATES.map((s) => `'${s}'`).join(', ');

/**
 * The embedded store: one SQLite file (WAL, synchronous=FULL so that a committed change survives
 * a power cut, not only a crash of the process). better-sqlite3 is synchronous; each call is a
 * short transaction, so the event loop is held for well under a millisecond.
 */
export class SqliteCommandStore implements CommandStore {
  readonly driver = 'sqlite' as const;
  private readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
  }

  migrate(): Promise<number> {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const applied = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    );
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      this.db.transaction(() => {
        for (const sql of m.sql) this.db.exec(sql);
        this.db
          .prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)')
          .run(m.version, Date.now());
      })();
    }
    return Promise.resolve(Math.max(0, ...MIGRATIONS.map((m) => m.version)));
  }

  insertCommands(commands: readonly CommandRecord[], detail: string): Promise<void> {
    const insert = this.db.prepare(
      `INSERT INTO commands (${COMMAND_COLUMNS}) VALUES (${COMMAND_COLUMNS.split(',')
        .map(() => '?')
        .join(', ')})`,
    );
    const history = this.db.prepare(
      'INSERT INTO command_history (command_id, seq, state, at, actor, detail) VALUES (?, 1, ?, ?, ?, ?)',
    );
    return settle(() =>
      this.db.transaction(() => {
        for (const c of commands) {
          insert.run(...commandValues(c));
          history.run(c.id, c.state, c.createdAt, c.createdBy, detail);
        }
      })(),
    );
  }

  getCommand(id: string): Promise<CommandRecord | undefined> {
    const row = this.db.prepare(`SELECT ${COMMAND_COLUMNS} FROM commands WHERE id = ?`).get(id) as
      CommandRow | undefined;
    return Promise.resolve(row ? toCommand(row) : undefined);
  }

  history(id: string): Promise<HistoryRecord[]> {
    const rows = this.db
      .prepare(
        'SELECT state, at, actor, detail FROM command_history WHERE command_id = ? ORDER BY seq',
      )
      .all(id) as { state: string; at: number; actor: string; detail: string }[];
    return Promise.resolve(
      rows.map((r) => ({
        state: r.state as HistoryRecord['state'],
        at: Number(r.at),
        by: r.actor,
        detail: r.detail,
      })),
    );
  }

  listByDevice(deviceId: string, limit: number): Promise<CommandRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT ${COMMAND_COLUMNS} FROM commands WHERE device_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
      .all(deviceId, limit) as CommandRow[];
    return Promise.resolve(rows.map(toCommand));
  }

  listOpen(): Promise<CommandRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT ${COMMAND_COLUMNS} FROM commands WHERE state IN (${OPEN}) ORDER BY created_at, id`,
      )
      .all() as CommandRow[];
    return Promise.resolve(rows.map(toCommand));
  }

  changeState(id: string, change: StateChange): Promise<boolean> {
    return settle(() =>
      this.db.transaction(() => {
        const r = this.db
          .prepare(
            `UPDATE commands SET state = ?, updated_at = ?,
             result = COALESCE(?, result), reason = COALESCE(?, reason), attempts = attempts + ?
           WHERE id = ? AND state = ?`,
          )
          .run(
            change.to,
            change.at,
            change.result ? JSON.stringify(change.result) : null,
            change.reason ?? null,
            change.published ? 1 : 0,
            id,
            change.from,
          );
        if (r.changes !== 1) return false;
        this.db
          .prepare(
            `INSERT INTO command_history (command_id, seq, state, at, actor, detail)
           SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM command_history WHERE command_id = ?`,
          )
          .run(id, change.to, change.at, change.by, change.detail, id);
        return true;
      })(),
    );
  }

  createUser(user: UserRecord): Promise<boolean> {
    const r = this.db
      .prepare(
        'INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (username) DO NOTHING',
      )
      .run(user.username, user.passwordHash, user.role, user.createdAt);
    return Promise.resolve(r.changes === 1);
  }

  getUser(username: string): Promise<UserRecord | undefined> {
    const row = this.db
      .prepare('SELECT username, password_hash, role, created_at FROM users WHERE username = ?')
      .get(username) as
      { username: string; password_hash: string; role: string; created_at: number } | undefined;
    return Promise.resolve(
      row
        ? {
            username: row.username,
            passwordHash: row.password_hash,
            role: row.role as UserRole,
            createdAt: Number(row.created_at),
          }
        : undefined,
    );
  }

  insertToken(token: TokenRecord): Promise<void> {
    return settle(() => {
      this.db
        .prepare('INSERT INTO tokens (token_hash, username, expires_at) VALUES (?, ?, ?)')
        .run(token.tokenHash, token.username, token.expiresAt);
    });
  }

  getToken(tokenHash: string): Promise<TokenRecord | undefined> {
    const row = this.db
      .prepare('SELECT token_hash, username, expires_at FROM tokens WHERE token_hash = ?')
      .get(tokenHash) as { token_hash: string; username: string; expires_at: number } | undefined;
    return Promise.resolve(
      row
        ? { tokenHash: row.token_hash, username: row.username, expiresAt: Number(row.expires_at) }
        : undefined,
    );
  }

  deleteExpiredTokens(now: number): Promise<number> {
    return Promise.resolve(
      this.db.prepare('DELETE FROM tokens WHERE expires_at <= ?').run(now).changes,
    );
  }

  listAlarms(): Promise<AlarmRecord[]> {
    const rows = this.db
      .prepare(`SELECT ${ALARM_COLUMNS} FROM alarms ORDER BY id`)
      .all() as AlarmRow[];
    return Promise.resolve(rows.map(toAlarm));
  }

  saveAlarm(alarm: AlarmRecord, event: AlarmEventRecord): Promise<boolean> {
    const values = alarmValues(alarm);
    return settle(() =>
      this.db.transaction(() => {
        const r =
          alarm.version === 1
            ? this.db
                .prepare(
                  `INSERT INTO alarms (${ALARM_COLUMNS}) VALUES (${values.map(() => '?').join(', ')}) ON CONFLICT (id) DO NOTHING`,
                )
                .run(...values)
            : this.db
                .prepare(
                  `UPDATE alarms SET state = ?, priority = ?, status = ?, condition = ?, value = ?, updated_at = ?, version = ?
                   WHERE id = ? AND version = ?`,
                )
                .run(...values.slice(6), alarm.id, alarm.version - 1);
        if (r.changes !== 1) return false;
        this.db
          .prepare(
            `INSERT INTO alarm_events (seq, ${ALARM_EVENT_COLUMNS})
             SELECT COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM alarm_events WHERE alarm_id = ?`,
          )
          .run(...alarmEventValues(event), event.alarmId);
        return true;
      })(),
    );
  }

  alarmHistory(alarmId: string, limit: number): Promise<AlarmEventRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT ${ALARM_EVENT_COLUMNS} FROM alarm_events WHERE alarm_id = ? ORDER BY seq DESC LIMIT ?`,
      )
      .all(alarmId, limit) as AlarmEventRow[];
    return Promise.resolve(rows.map(toAlarmEvent).reverse());
  }

  deviceAlarmEvents(deviceId: string, limit: number): Promise<AlarmEventRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT ${ALARM_EVENT_COLUMNS} FROM alarm_events WHERE device_id = ? ORDER BY at DESC, alarm_id, seq DESC LIMIT ?`,
      )
      .all(deviceId, limit) as AlarmEventRow[];
    return Promise.resolve(rows.map(toAlarmEvent));
  }

  alarmActivations(since: number): Promise<AlarmEventRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT ${ALARM_EVENT_COLUMNS} FROM alarm_events
         WHERE action = 'activate' AND to_state = 'unacknowledged' AND at > ? ORDER BY at, alarm_id`,
      )
      .all(since) as AlarmEventRow[];
    return Promise.resolve(rows.map(toAlarmEvent));
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

/** A synchronous database call as a promise: a thrown error becomes a rejection, as with PostgreSQL. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
