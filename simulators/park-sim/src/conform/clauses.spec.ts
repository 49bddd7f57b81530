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

const run = (messages: ObservedMessage[], kicks: KickObservation[] | null = KICKS) =>
  Object.fromEntries(
    evaluate({
      deviceId: 'cnc-1',
      startedAt: T0,
      endedAt: T0 + 20_000,
      messages,
      ...(kicks ? { kicks } : {}),
    }).map((c) => [c.id, c.status]),
  );

describe('conformance clauses', () => {
  it('passes a device that keeps the contract', () => {
    expect(run(goodTraffic())).toEqual({
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
      keepalive: 'skip',
    });
  });

  it('skips will and reconnect in a passive run', () => {
    expect(run(goodTraffic(), null)).toMatchObject({ will: 'skip', reconnect: 'skip' });
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
