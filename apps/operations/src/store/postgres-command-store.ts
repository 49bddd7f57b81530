import pg from 'pg';
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

/** A lock id of our own for the migration step, so that two instances starting at once take turns. */
const MIGRATION_LOCK = 0x7061726b;

/**
 * The store for deployments: PostgreSQL through a connection pool. Several operations instances
 * may share one database (every change is a compare-and-set in a transaction).
 */
export class PostgresCommandStore implements CommandStore {
  readonly driver = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 5 });
    // An idle client that loses its server emits here; the next query reports the problem.
    this.pool.on('error', () => undefined);
  }

  async migrate(): Promise<number> {
    await this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      const done = new Set(
        (await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
          (r) => r.version,
        ),
      );
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        for (const sql of m.sql) await c.query(sql);
        await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
          m.version,
          Date.now(),
        ]);
      }
    });
    return Math.max(0, ...MIGRATIONS.map((m) => m.version));
  }

  async insertCommands(commands: readonly CommandRecord[], detail: string): Promise<void> {
    const placeholders = COMMAND_COLUMNS.split(',')
      .map((_, i) => `$${i + 1}`)
      .join(', ');
    await this.tx(async (c) => {
      for (const cmd of commands) {
        await c.query(
          `INSERT INTO commands (${COMMAND_COLUMNS}) VALUES (${placeholders})`,
          commandValues(cmd),
        );
        await c.query(
          'INSERT INTO command_history (command_id, seq, state, at, actor, detail) VALUES ($1, 1, $2, $3, $4, $5)',
          [cmd.id, cmd.state, cmd.createdAt, cmd.createdBy, detail],
        );
      }
    });
  }

  async getCommand(id: string): Promise<CommandRecord | undefined> {
    const r = await this.pool.query<CommandRow>(
      `SELECT ${COMMAND_COLUMNS} FROM commands WHERE id = $1`,
      [id],
    );
    return r.rows[0] ? toCommand(r.rows[0]) : undefined;
  }

  async history(id: string): Promise<HistoryRecord[]> {
    const r = await this.pool.query<{ state: string; at: string; actor: string; detail: string }>(
      'SELECT state, at, actor, detail FROM command_history WHERE command_id = $1 ORDER BY seq',
      [id],
    );
    return r.rows.map((row) => ({
      state: row.state as HistoryRecord['state'],
      at: Number(row.at),
      by: row.actor,
      detail: row.detail,
    }));
  }

  async listByDevice(deviceId: string, limit: number): Promise<CommandRecord[]> {
    const r = await this.pool.query<CommandRow>(
      `SELECT ${COMMAND_COLUMNS} FROM commands WHERE device_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
      [deviceId, limit],
    );
    return r.rows.map(toCommand);
  }

  async listOpen(): Promise<CommandRecord[]> {
    const r = await this.pool.query<CommandRow>(
      `SELECT ${COMMAND_COLUMNS} FROM commands WHERE state = ANY($1) ORDER BY created_at, id`,
      [OPEN_STATES],
    );
    return r.rows.map(toCommand);
  }

  async changeState(id: string, change: StateChange): Promise<boolean> {
    return this.tx(async (c) => {
      const r = await c.query(
        `UPDATE commands SET state = $1, updated_at = $2,
           result = COALESCE($3, result), reason = COALESCE($4, reason), attempts = attempts + $5
         WHERE id = $6 AND state = $7`,
        [
          change.to,
          change.at,
          change.result ? JSON.stringify(change.result) : null,
          change.reason ?? null,
          change.published ? 1 : 0,
          id,
          change.from,
        ],
      );
      if (r.rowCount !== 1) return false;
      await c.query(
        `INSERT INTO command_history (command_id, seq, state, at, actor, detail)
         SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM command_history WHERE command_id = $1`,
        [id, change.to, change.at, change.by, change.detail],
      );
      return true;
    });
  }

  async createUser(user: UserRecord): Promise<boolean> {
    const r = await this.pool.query(
      'INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING',
      [user.username, user.passwordHash, user.role, user.createdAt],
    );
    return r.rowCount === 1;
  }

  async getUser(username: string): Promise<UserRecord | undefined> {
    const r = await this.pool.query<{
      username: string;
      password_hash: string;
      role: string;
      created_at: string;
    }>('SELECT username, password_hash, role, created_at FROM users WHERE username = $1', [
      username,
    ]);
    const row = r.rows[0];
    return row
      ? {
          username: row.username,
          passwordHash: row.password_hash,
          role: row.role as UserRole,
          createdAt: Number(row.created_at),
        }
      : undefined;
  }

  async insertToken(token: TokenRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO tokens (token_hash, username, expires_at) VALUES ($1, $2, $3)',
      [token.tokenHash, token.username, token.expiresAt],
    );
  }

  async getToken(tokenHash: string): Promise<TokenRecord | undefined> {
    const r = await this.pool.query<{ token_hash: string; username: string; expires_at: string }>(
      'SELECT token_hash, username, expires_at FROM tokens WHERE token_hash = $1',
      [tokenHash],
    );
    const row = r.rows[0];
    return row
      ? { tokenHash: row.token_hash, username: row.username, expiresAt: Number(row.expires_at) }
      : undefined;
  }

  async deleteExpiredTokens(now: number): Promise<number> {
    const r = await this.pool.query('DELETE FROM tokens WHERE expires_at <= $1', [now]);
    return r.rowCount ?? 0;
  }

  async listAlarms(): Promise<AlarmRecord[]> {
    const r = await this.pool.query<AlarmRow>(`SELECT ${ALARM_COLUMNS} FROM alarms ORDER BY id`);
    return r.rows.map(toAlarm);
  }

  async saveAlarm(alarm: AlarmRecord, event: AlarmEventRecord): Promise<boolean> {
    const values = alarmValues(alarm);
    return this.tx(async (c) => {
      const r =
        alarm.version === 1
          ? await c.query(
              `INSERT INTO alarms (${ALARM_COLUMNS}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (id) DO NOTHING`,
              values,
            )
          : await c.query(
              `UPDATE alarms SET state = $1, priority = $2, status = $3, condition = $4, value = $5, updated_at = $6, version = $7
               WHERE id = $8 AND version = $9`,
              [...values.slice(6), alarm.id, alarm.version - 1],
            );
      if (r.rowCount !== 1) return false;
      await c.query(
        `INSERT INTO alarm_events (seq, ${ALARM_EVENT_COLUMNS})
         SELECT COALESCE(MAX(seq), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM alarm_events WHERE alarm_id = $1`,
        alarmEventValues(event),
      );
      return true;
    });
  }

  async alarmHistory(alarmId: string, limit: number): Promise<AlarmEventRecord[]> {
    const r = await this.pool.query<AlarmEventRow>(
      `SELECT ${ALARM_EVENT_COLUMNS} FROM alarm_events WHERE alarm_id = $1 ORDER BY seq DESC LIMIT $2`,
      [alarmId, limit],
    );
    return r.rows.map(toAlarmEvent).reverse();
  }

  async deviceAlarmEvents(deviceId: string, limit: number): Promise<AlarmEventRecord[]> {
    const r = await this.pool.query<AlarmEventRow>(
      `SELECT ${ALARM_EVENT_COLUMNS} FROM alarm_events WHERE device_id = $1 ORDER BY at DESC, alarm_id, seq DESC LIMIT $2`,
      [deviceId, limit],
    );
    return r.rows.map(toAlarmEvent);
  }

  async alarmActivations(since: number): Promise<AlarmEventRecord[]> {
    const r = await this.pool.query<AlarmEventRow>(
      `SELECT ${ALARM_EVENT_COLUMNS} FROM alarm_events
       WHERE action = 'activate' AND to_state = 'unacknowledged' AND at > $1 ORDER BY at, alarm_id`,
      [since],
    );
    return r.rows.map(toAlarmEvent);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async tx<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await work(client);
      await client.query('COMMIT');
      return out;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
