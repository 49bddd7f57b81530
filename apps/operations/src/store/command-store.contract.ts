import { describe, expect, it } from 'vitest';
import type {
  AlarmEventRecord,
  AlarmRecord,
  CommandRecord,
  CommandStore,
} from './command-store.js';

/**
 * One suite for every CommandStore implementation. `open` gives a store on a database that
 * `reopen` opens again (a restart of the service); `cleanup` removes it.
 */
export interface StoreUnderTest {
  readonly store: CommandStore;
  reopen(): Promise<CommandStore>;
  cleanup(): Promise<void>;
}

const T0 = 1_764_000_000_000;

export function command(id: string, overrides: Partial<CommandRecord> = {}): CommandRecord {
  return {
    id,
    park: 'yuzhu',
    site: 'tower-a',
    assetType: 'building_hvac',
    deviceId: 'ahu-1',
    name: 'set_supply_setpoint',
    params: { setpoint_c: 16 },
    state: 'queued',
    createdBy: 'alice',
    createdAt: T0,
    expiresAt: T0 + 60_000,
    updatedAt: T0,
    result: {},
    reason: '',
    attempts: 0,
    ...overrides,
  };
}

function alarm(version: number, overrides: Partial<AlarmRecord> = {}): AlarmRecord {
  return {
    id: 'frz-1.cabinet_temp_c.hihi',
    definitionId: 'ultra_low_freezer.cabinet_temp_c.hihi',
    park: 'bio-island',
    site: 'bsl-3',
    assetType: 'ultra_low_freezer',
    deviceId: 'frz-1',
    state: 'unacknowledged',
    priority: 'critical',
    status: {
      annunciation: 'unacknowledged',
      active: true,
      activation: 1,
      raisedAt: T0,
      suppressed: false,
    },
    condition: { active: true },
    value: -65.5,
    updatedAt: T0,
    version,
    ...overrides,
  };
}

function alarmEvent(overrides: Partial<AlarmEventRecord> = {}): AlarmEventRecord {
  return {
    alarmId: 'frz-1.cabinet_temp_c.hihi',
    deviceId: 'frz-1',
    at: T0,
    by: 'system',
    action: 'activate',
    fromState: 'normal',
    toState: 'unacknowledged',
    priority: 'critical',
    comment: '',
    value: -65.5,
    ...overrides,
  };
}

export function commandStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`${name} command store`, () => {
    const withStore = async (work: (s: StoreUnderTest) => Promise<void>) => {
      const s = await open();
      try {
        await work(s);
      } finally {
        await s.cleanup();
      }
    };

    it('migrates once: a second run changes nothing and keeps the data', () =>
      withStore(async ({ store }) => {
        await store.insertCommands([command('c-1')], 'asked');
        expect(await store.migrate()).toBe(2);
        expect((await store.getCommand('c-1'))?.state).toBe('queued');
      }));

    it('stores a command with its first history row and reads it back exactly', () =>
      withStore(async ({ store }) => {
        await store.insertCommands([command('c-1')], 'asked by alice');
        expect(await store.getCommand('c-1')).toEqual(command('c-1'));
        expect(await store.history('c-1')).toEqual([
          { state: 'queued', at: T0, by: 'alice', detail: 'asked by alice' },
        ]);
        expect(await store.getCommand('nope')).toBeUndefined();
      }));

    it('inserts a selection all or none', () =>
      withStore(async ({ store }) => {
        await store.insertCommands([command('c-1')], '');
        await expect(store.insertCommands([command('c-2'), command('c-1')], '')).rejects.toThrow();
        expect(await store.getCommand('c-2')).toBeUndefined();
      }));

    it('changes state only from the state it was in (compare-and-set), with a history row each', () =>
      withStore(async ({ store }) => {
        await store.insertCommands([command('c-1')], '');
        const sent = {
          from: 'queued',
          to: 'sent',
          at: T0 + 1,
          by: 'system',
          detail: 'published',
          published: true,
        } as const;
        expect(await store.changeState('c-1', sent)).toBe(true);
        expect(await store.changeState('c-1', sent)).toBe(false);
        expect(
          await store.changeState('c-1', {
            from: 'sent',
            to: 'done',
            at: T0 + 2,
            by: 'device:ahu-1',
            detail: '',
            result: { supply_air_setpoint_c: 16 },
            reason: '',
          }),
        ).toBe(true);
        const c = await store.getCommand('c-1');
        expect(c).toMatchObject({
          state: 'done',
          attempts: 1,
          updatedAt: T0 + 2,
          result: { supply_air_setpoint_c: 16 },
        });
        expect((await store.history('c-1')).map((h) => h.state)).toEqual([
          'queued',
          'sent',
          'done',
        ]);
        expect(await store.changeState('nope', sent)).toBe(false);
      }));

    it('lists open commands oldest first, and a device history newest first', () =>
      withStore(async ({ store }) => {
        await store.insertCommands(
          [
            command('c-1', { createdAt: T0 }),
            command('c-2', { createdAt: T0 + 1 }),
            command('c-3', { createdAt: T0 + 2, deviceId: 'ahu-2' }),
          ],
          '',
        );
        await store.changeState('c-1', {
          from: 'queued',
          to: 'cancelled',
          at: T0 + 5,
          by: 'bob',
          detail: '',
        });
        expect((await store.listOpen()).map((c) => c.id)).toEqual(['c-2', 'c-3']);
        expect((await store.listByDevice('ahu-1', 10)).map((c) => c.id)).toEqual(['c-2', 'c-1']);
        expect((await store.listByDevice('ahu-1', 1)).map((c) => c.id)).toEqual(['c-2']);
      }));

    it('keeps accounts unique and tokens until they expire', () =>
      withStore(async ({ store }) => {
        const user = {
          username: 'alice',
          passwordHash: 'scrypt$x',
          role: 'operator',
          createdAt: T0,
        } as const;
        expect(await store.createUser(user)).toBe(true);
        expect(await store.createUser({ ...user, role: 'admin' })).toBe(false);
        expect(await store.getUser('alice')).toEqual(user);
        await store.insertToken({ tokenHash: 'h1', username: 'alice', expiresAt: T0 + 10 });
        await store.insertToken({ tokenHash: 'h2', username: 'alice', expiresAt: T0 + 1000 });
        expect(await store.getToken('h1')).toEqual({
          tokenHash: 'h1',
          username: 'alice',
          expiresAt: T0 + 10,
        });
        expect(await store.deleteExpiredTokens(T0 + 10)).toBe(1);
        expect(await store.getToken('h1')).toBeUndefined();
        expect(await store.getToken('h2')).toBeDefined();
      }));

    it('stores an alarm with its history; a save from a stale version changes nothing', () =>
      withStore(async ({ store }) => {
        expect(await store.saveAlarm(alarm(1), alarmEvent())).toBe(true);
        expect(await store.saveAlarm(alarm(1), alarmEvent())).toBe(false);
        const acked = alarm(2, {
          state: 'acknowledged',
          status: { ...alarm(1).status, annunciation: 'acknowledged' },
          updatedAt: T0 + 5,
        });
        const ack = alarmEvent({
          at: T0 + 5,
          by: 'olga',
          action: 'acknowledge',
          fromState: 'unacknowledged',
          toState: 'acknowledged',
          comment: 'door was open; closed it',
        });
        expect(await store.saveAlarm(acked, ack)).toBe(true);
        expect(await store.saveAlarm(alarm(2), alarmEvent({ action: 'x' }))).toBe(false);
        expect(await store.listAlarms()).toEqual([acked]);
        expect(await store.alarmHistory('frz-1.cabinet_temp_c.hihi', 10)).toEqual([
          alarmEvent(),
          ack,
        ]);
        expect(await store.alarmHistory('frz-1.cabinet_temp_c.hihi', 1)).toEqual([ack]);
        expect(await store.deviceAlarmEvents('frz-1', 10)).toEqual([ack, alarmEvent()]);
        expect(await store.alarmActivations(T0 - 1)).toEqual([alarmEvent()]);
        expect(await store.alarmActivations(T0)).toEqual([]);
      }));

    it('keeps every alarm through a restart', () =>
      withStore(async (s) => {
        await s.store.saveAlarm(alarm(1), alarmEvent());
        const shelved = alarm(2, {
          state: 'shelved',
          status: { ...alarm(1).status, shelf: { until: T0 + 60_000, by: 'olga', reason: 'r' } },
        });
        await s.store.saveAlarm(shelved, alarmEvent({ action: 'shelve', toState: 'shelved' }));
        const again = await s.reopen();
        expect(await again.listAlarms()).toEqual([shelved]);
      }));

    it('keeps everything through a restart (a new connection to the same database)', () =>
      withStore(async (s) => {
        await s.store.insertCommands([command('c-1')], '');
        await s.store.changeState('c-1', {
          from: 'queued',
          to: 'sent',
          at: T0 + 1,
          by: 'system',
          detail: '',
        });
        const again = await s.reopen();
        expect(await again.migrate()).toBe(2);
        expect((await again.getCommand('c-1'))?.state).toBe('sent');
        expect((await again.history('c-1')).length).toBe(2);
      }));
  });
}
