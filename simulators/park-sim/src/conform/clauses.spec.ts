import type { ConnectionNotice } from '@parkpulse/telemetry';
import { describe, expect, it } from 'vitest';
import { evaluate, type KickObservation, type ObservedMessage } from './clauses.js';

const BASE = 'parks/science-city/lab/cnc_machine/cnc-1';
const T0 = 1764000000000;

function msg(topic: string, payload: unknown, at: number, extra: Partial<ObservedMessage> = {}) {
  return {
    topic,
    payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
    receivedAt: at,
    qos: 1,
    retain: false,
    ...extra,
  };
}

/** A device that keeps the contract: retained online, then samples every second. */
function goodTraffic(
  n = 6,
  tweak: (s: { ts: number; seq: number }, i: number) => object = (s) => s,
) {
  const out: ObservedMessage[] = [msg(`${BASE}/status`, 'online', T0, { retain: true })];
  for (let i = 1; i <= n; i++) {
    const at = T0 + i * 1000;
    out.push(
      msg(
        `${BASE}/telemetry`,
        { ...tweak({ ts: at - 5, seq: i }, i), metrics: { spindle_rpm: 1000 } },
        at,
      ),
    );
  }
  return out;
}

const KICKS: KickObservation[] = [
  { kickedAt: T0 + 10_000, reconnectedAt: T0 + 10_800, willSeen: true },
  { kickedAt: T0 + 13_000, reconnectedAt: T0 + 13_600, willSeen: true },
  { kickedAt: T0 + 16_000, reconnectedAt: T0 + 16_950, willSeen: true },
];

/** The broker's notice of a connection of cnc-1 that keeps the contract (§1). */
function notice(tweak: Partial<ConnectionNotice> = {}): ConnectionNotice {
  return {
    clientId: 'cnc-1',
    keepaliveS: 30,
    clean: true,
    protocolVersion: 4,
    will: { topic: `${BASE}/status`, qos: 1, retain: true, payloadBytes: 7 },
    connectedAt: T0 - 1000,
    ...tweak,
  };
}
const willOf = (tweak: Partial<NonNullable<ConnectionNotice['will']>>) => ({
  will: { ...notice().will!, ...tweak },
});

const judge = (
  messages: ObservedMessage[],
  kicks: KickObservation[] | null = KICKS,
  connections: ConnectionNotice[] = [],
) =>
  evaluate({
    deviceId: 'cnc-1',
    startedAt: T0,
    endedAt: T0 + 20_000,
    messages,
    ...(kicks ? { kicks } : {}),
    connections,
  });
const run = (...args: Parameters<typeof judge>) =>
  Object.fromEntries(judge(...args).map((c) => [c.id, c.status]));
const detailOf = (id: string, ...args: Parameters<typeof judge>) =>
  judge(...args).find((c) => c.id === id)!.detail;

describe('conformance clauses', () => {
  it('passes a device that keeps the contract', () => {
    expect(run(goodTraffic(), KICKS, [notice()])).toEqual({
      topic: 'pass',
      schema: 'pass',
      ranges: 'pass',
      seq: 'pass',
      timestamp: 'pass',
      batch: 'pass',
      interval: 'pass',
      status: 'pass',
      will: 'pass',
      reconnect: 'pass',
      qos: 'pass',
      keepalive: 'pass',
    });
  });

  it('skips the keep-alive without a connection notice; judges the will by the kicks alone', () => {
    expect(run(goodTraffic())).toMatchObject({ will: 'pass', keepalive: 'skip' });
  });

  it('skips will and reconnect in a passive run without a connection notice', () => {
    expect(run(goodTraffic(), null)).toMatchObject({ will: 'skip', reconnect: 'skip' });
  });

  it('judges the will from the connection notice in a passive run', () => {
    expect(run(goodTraffic(), null, [notice()])).toMatchObject({
      will: 'pass',
      reconnect: 'skip',
      keepalive: 'pass',
    });
    expect(detailOf('will', goodTraffic(), null, [notice()])).toContain(
      `will on ${BASE}/status, QoS 1, retained, 7 bytes`,
    );
    expect(run(goodTraffic(), null, [notice({ will: null })]).will).toBe('fail');
    expect(detailOf('will', goodTraffic(), null, [notice({ will: null })])).toMatch(/^no will set/);
  });

  it('fails a will that is not retained, at QoS 0, empty, or on another topic; warns on QoS 2', () => {
    for (const [bad, why] of [
      [willOf({ retain: false }), /not retained/],
      [willOf({ qos: 0 }), /QoS 0/],
      [willOf({ payloadBytes: 0 }), /empty will payload/],
      [willOf({ topic: `${BASE}/event` }), /not its own …\/status/],
      // Its own status, but not where the device publishes.
      [willOf({ topic: 'parks/science-city/lab2/cnc_machine/cnc-1/status' }), /not its own/],
    ] as const) {
      for (const kicks of [KICKS, null]) {
        const connections = [notice(bad)];
        expect(run(goodTraffic(), kicks, connections)).toMatchObject({
          will: 'fail',
          keepalive: 'pass',
          status: 'pass',
        });
        expect(detailOf('will', goodTraffic(), kicks, connections)).toMatch(why);
      }
    }
    expect(run(goodTraffic(), KICKS, [notice(willOf({ qos: 2 }))]).will).toBe('warn');
    // One connection without a will among several is enough.
    expect(run(goodTraffic(), KICKS, [notice(), notice({ will: null }), notice()]).will).toBe(
      'fail',
    );
  });

  it('fails a will the notice shows while no offline follows the kicks: not offline', () => {
    const kicks = KICKS.map((k) => ({ ...k, willSeen: false }));
    expect(run(goodTraffic(), kicks, [notice()]).will).toBe('fail');
    expect(detailOf('will', goodTraffic(), kicks, [notice()])).toContain('payload is not offline');
  });

  it('passes a keep-alive of 30–60 s, warns outside it up to 120 s, fails 0 and above 120 s', () => {
    const keepalive = (...values: number[]) =>
      run(
        goodTraffic(),
        KICKS,
        values.map((keepaliveS) => notice({ keepaliveS })),
      ).keepalive;
    expect(keepalive(30)).toBe('pass');
    expect(keepalive(60)).toBe('pass');
    expect(keepalive(45, 30)).toBe('pass');
    expect(keepalive(29)).toBe('warn');
    expect(keepalive(1)).toBe('warn');
    expect(keepalive(61)).toBe('warn');
    expect(keepalive(120)).toBe('warn');
    expect(keepalive(121)).toBe('fail');
    expect(keepalive(900)).toBe('fail');
    expect(keepalive(0)).toBe('fail');
    // Every connection counts: a reconnect with another keep-alive is judged too.
    expect(keepalive(30, 900)).toBe('fail');
    expect(detailOf('keepalive', goodTraffic(), KICKS, [notice({ keepaliveS: 900 })])).toMatch(
      /^keep-alive 900 s: above 120 s/,
    );
    // Nothing else moves with it.
    const { keepalive: _, ...rest } = run(goodTraffic(), KICKS, [notice({ keepaliveS: 900 })]);
    expect(Object.values(rest).every((v) => v === 'pass')).toBe(true);
  });

  it('allows a redelivery (same seq and ts), warns on a gap, fails a seq that goes back', () => {
    const dup = goodTraffic();
    dup.push({ ...dup.at(-1)!, receivedAt: T0 + 6500 });
    expect(run(dup).seq).toBe('pass');
    expect(run(goodTraffic(6, (s) => ({ ...s, seq: s.seq * 2 }))).seq).toBe('warn');
    expect(run(goodTraffic(6, (s, i) => ({ ...s, seq: i === 4 ? 1 : s.seq })))).toMatchObject({
      seq: 'fail',
      schema: 'pass',
    });
  });

  it('fails seconds as timestamp (not as schema), warns on whole seconds and on a missing ts', () => {
    expect(run(goodTraffic(6, (s) => ({ ...s, ts: Math.floor(s.ts / 1000) })))).toMatchObject({
      timestamp: 'fail',
      schema: 'pass',
    });
    expect(
      run(goodTraffic(6, (s) => ({ ...s, ts: Math.floor(s.ts / 1000) * 1000 }))).timestamp,
    ).toBe('warn');
    expect(run(goodTraffic(6, (s) => ({ seq: s.seq }))).timestamp).toBe('warn');
  });

  it('fails a status that is not retained, a message at QoS 0, a bad topic, a fast interval', () => {
    const traffic = goodTraffic();
    expect(run([{ ...traffic[0]!, retain: false }, ...traffic.slice(1)]).status).toBe('fail');
    expect(
      run([
        ...traffic,
        msg(`${BASE}/event`, { code: 'E', severity: 'info' }, T0 + 7000, { qos: 0 }),
      ]).qos,
    ).toBe('fail');
    expect(
      run([
        ...traffic,
        msg('parks/science-city/Lab/cnc_machine/cnc-1/telemetry', { metrics: { a: 1 } }, T0 + 7000),
      ]),
    ).toMatchObject({ topic: 'fail', schema: 'pass' });
    const fast = goodTraffic(6).map((m, i) => ({ ...m, receivedAt: T0 + i * 100 }));
    expect(run(fast).interval).toBe('fail');
  });

  it('passes a device that answers a command; fails a malformed answer as schema', () => {
    // What the observer sees: the operations service's command, then the device's answers.
    const command = {
      id: 'c-42',
      name: 'stop',
      params: {},
      expiresAt: T0 + 600_000,
      issuedAt: T0 + 6500,
    };
    const answered = (...answers: unknown[]) => [
      ...goodTraffic(),
      msg(`${BASE}/cmd`, command, T0 + 6500),
      ...answers.map((a, i) => msg(`${BASE}/cmd_result`, a, T0 + 6600 + i * 100)),
    ];
    const good = run(
      answered(
        { id: 'c-42', status: 'accepted' },
        { id: 'c-42', status: 'done', result: { state: 'idle' }, ts: T0 + 6700 },
      ),
    );
    expect(good).toEqual(run(goodTraffic()));
    expect(
      run(
        answered({
          id: 'c-42',
          status: 'rejected',
          reason: 'wrong_state',
          message: 'in fault:\nreset first',
        }),
      ).schema,
    ).toBe('pass');
    for (const bad of [
      { id: 'c-42', status: 'ok' },
      { id: 'c-42', status: 'done', result: { state: null } },
      { id: 'c-42', status: 'rejected', reason: 'Wrong State' },
      { id: 'c-42', status: 'failed', message: 'ring\u0007' },
      { id: 'c-42', status: 'done', ts: 'yesterday' },
      { status: 'done' },
    ])
      expect(run(answered(bad)), JSON.stringify(bad)).toMatchObject({
        topic: 'pass',
        schema: 'fail',
        timestamp: 'pass',
      });
  });

  it('fails a missing will and a reconnect with no back-off; warns when no jitter is visible', () => {
    expect(
      run(
        goodTraffic(),
        KICKS.map((k) => ({ ...k, willSeen: false })),
      ).will,
    ).toBe('fail');
    expect(
      run(
        goodTraffic(),
        KICKS.map((k) => ({ ...k, reconnectedAt: k.kickedAt + 5 })),
      ).reconnect,
    ).toBe('fail');
    expect(
      run(
        goodTraffic(),
        KICKS.map((k) => ({ ...k, reconnectedAt: k.kickedAt + 1000 })),
      ).reconnect,
    ).toBe('warn');
  });
});
