import { describe, expect, it } from 'vitest';
import { PresenceTracker } from './presence.js';
import { parseTopic, type ParsedTopic } from './topic.js';

const topicOf = (asset: string, device: string, park = 'science-city'): ParsedTopic => {
  const t = parseTopic(`parks/${park}/s1/${asset}/${device}/telemetry`);
  if (!t.ok) throw new Error(t.error.detail);
  return t.value;
};

describe('PresenceTracker', () => {
  it('is online while reporting, stale after three silent report intervals, offline on disconnect', () => {
    const p = new PresenceTracker();
    const meter = topicOf('street_light', 'lamp-1'); // reports every 60 s
    p.status(meter, true, 0);
    expect(p.evaluate(1000)).toEqual([{ topic: meter, state: 'online' }]);
    p.seen(meter, 60_000);
    expect(p.evaluate(239_000)).toEqual([]); // 179 s silent: still online
    expect(p.evaluate(241_000)).toEqual([{ topic: meter, state: 'stale' }]);
    p.seen(meter, 242_000);
    expect(p.evaluate(243_000)).toEqual([{ topic: meter, state: 'online' }]);
    p.status(meter, false, 250_000);
    expect(p.evaluate(250_001)).toEqual([{ topic: meter, state: 'offline' }]);
    expect(p.counts().get('science-city')).toEqual({
      online: 0,
      stale: 0,
      offline: 1,
      flapping: 0,
    });
  });

  it('never calls a fast reporter stale before 30 s', () => {
    const p = new PresenceTracker();
    const cnc = topicOf('cnc_machine', 'cnc-1'); // every second
    p.seen(cnc, 0);
    p.evaluate(0);
    expect(p.evaluate(29_000)).toEqual([]);
    expect(p.evaluate(31_000)).toEqual([{ topic: cnc, state: 'stale' }]);
  });

  it('calls six connection changes within ten minutes flapping, until they age out', () => {
    const p = new PresenceTracker();
    const agv = topicOf('agv', 'agv-1');
    p.status(agv, true, 0);
    for (let i = 1; i <= 6; i++) p.status(agv, i % 2 === 0, i * 10_000);
    expect(p.evaluate(61_000)).toEqual([{ topic: agv, state: 'flapping' }]);
    p.seen(agv, 10 * 60_000 + 15_000);
    expect(p.evaluate(10 * 60_000 + 20_000)).toEqual([{ topic: agv, state: 'online' }]);
  });

  it('counts devices per park', () => {
    const p = new PresenceTracker();
    p.status(topicOf('energy_meter', 'a', 'yuzhu'), true, 0);
    p.status(topicOf('energy_meter', 'b', 'yuzhu'), false, 0);
    p.seen(topicOf('energy_meter', 'c', 'bio-island'), 0);
    p.evaluate(1);
    expect(Object.fromEntries(p.counts())).toEqual({
      yuzhu: { online: 1, stale: 0, offline: 1, flapping: 0 },
      'bio-island': { online: 1, stale: 0, offline: 0, flapping: 0 },
    });
  });
});
