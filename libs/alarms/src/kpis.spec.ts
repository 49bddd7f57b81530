import { describe, expect, it } from 'vitest';
import { computeKpis, type Activation } from './kpis.js';

const T = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;
const act = (
  alarmId: string,
  at: number,
  priority: Activation['priority'] = 'low',
): Activation => ({
  alarmId,
  name: alarmId,
  priority,
  at,
});

describe('alarm KPIs', () => {
  it('200 devices in the same minute: one flood, the priority mix, alarms per 10 minutes', () => {
    const flood = Array.from({ length: 200 }, (_, i) =>
      act(`f-${String(i).padStart(3, '0')}.cabinet_temp_c.hihi`, T + 1000 + i * 100, 'critical'),
    );
    const k = computeKpis([...flood, act('cnc-1.offline', T - 3 * 3600_000, 'medium')], [], {
      now: T + 2 * MIN,
    });
    expect(k.annunciated).toBe(201);
    expect(k.floods.count).toBe(1);
    expect(k.floods.periods).toEqual([{ from: T, to: T + 10 * MIN, alarms: 200 }]);
    expect(k.floods.percentOfTime).toBe(0.7); // 10 min of 24 h
    expect(k.perOperatorPer10Min).toEqual({ average: 1.4, peak: 200 });
    expect(k.priorityMix.critical).toEqual({ count: 200, percent: 99.5 });
    expect(k.priorityMix.medium).toEqual({ count: 1, percent: 0.5 });
    expect(k.priorityMix.low).toEqual({ count: 0, percent: 0 });
    expect(k.top10).toHaveLength(10);
  });

  it('ten alarms in ten minutes is not a flood; eleven is; adjacent intervals make one flood', () => {
    const ten = Array.from({ length: 10 }, (_, i) => act(`a${i}.x`, T + i * MIN));
    expect(computeKpis(ten, [], { now: T + 20 * MIN }).floods.count).toBe(0);
    const k = computeKpis(
      [
        ...ten,
        act('a10.x', T + 9 * MIN),
        ...Array.from({ length: 11 }, (_, i) => act(`b${i}.x`, T + 10 * MIN + i)),
      ],
      [],
      {
        now: T + 30 * MIN,
      },
    );
    expect(k.floods.periods).toEqual([{ from: T, to: T + 20 * MIN, alarms: 22 }]);
    expect(k.floods.count).toBe(1);
  });

  it('divides by the operator positions', () => {
    const eleven = Array.from({ length: 11 }, (_, i) => act(`a${i}.x`, T + i));
    expect(computeKpis(eleven, [], { now: T + MIN, operators: 2 }).floods.count).toBe(0);
    expect(computeKpis(eleven, [], { now: T + MIN, operators: 2 }).perOperatorPer10Min.peak).toBe(
      5.5,
    );
  });

  it('chattering: three activations of one alarm within a minute', () => {
    const k = computeKpis(
      [
        act('c.x', T),
        act('c.x', T + 30_000),
        act('c.x', T + 60_000),
        act('d.x', T),
        act('d.x', T + 30_000),
        act('d.x', T + 61_000),
      ],
      [],
      { now: T + 2 * MIN },
    );
    expect(k.chattering).toEqual([{ alarmId: 'c.x', name: 'c.x', activations: 3 }]);
    expect(k.top10.map((t) => [t.alarmId, t.count, t.percent])).toEqual([
      ['c.x', 3, 50],
      ['d.x', 3, 50],
    ]);
  });

  it('stale: standing for more than 24 hours, acknowledged or not; not when shelved', () => {
    const day = 24 * 3600_000;
    const k = computeKpis(
      [],
      [
        {
          alarmId: 'old.x',
          name: 'old',
          state: 'acknowledged',
          active: true,
          raisedAt: T - day - 1,
        },
        {
          alarmId: 'new.x',
          name: 'new',
          state: 'unacknowledged',
          active: true,
          raisedAt: T - day + 1,
        },
        {
          alarmId: 'shelf.x',
          name: 'shelf',
          state: 'shelved',
          active: true,
          raisedAt: T - 2 * day,
        },
        { alarmId: 'gone.x', name: 'gone', state: 'normal', active: false, raisedAt: T - 2 * day },
      ],
      { now: T },
    );
    expect(k.stale).toEqual([{ alarmId: 'old.x', name: 'old', since: T - day - 1 }]);
  });

  it('looks only inside the window', () => {
    const k = computeKpis([act('a.x', T - 25 * 3600_000), act('b.x', T)], [], { now: T });
    expect(k.annunciated).toBe(1);
    expect(k.from).toBe(T - 24 * 3600_000);
  });
});
