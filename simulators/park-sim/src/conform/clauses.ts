import {
  ContractValidator,
  MIN_EPOCH_MS,
  isCatalogueViolation,
  type SchemaViolation,
} from '@parkpulse/contract';
import {
  DEFAULT_LIMITS,
  getAssetType,
  parseTimestamp,
  parseTopic,
  UP_CHANNELS,
  type ConnectionNotice,
  type UpChannel,
} from '@parkpulse/telemetry';

/** One MQTT message the observer received. */
export interface ObservedMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** Observer's clock, epoch ms. */
  readonly receivedAt: number;
  /** As delivered to the observer (its subscription is QoS 1: a QoS 0 publish arrives as 0). */
  readonly qos: number;
  /** Set only on retained messages sent at subscription time ([MQTT-3.3.1-9]). */
  readonly retain: boolean;
}

/** What an active check did: one kick (session takeover) and what followed. */
export interface KickObservation {
  /** When the broker announced the tester's own connection (`$SYS/…/new/clients`). */
  readonly kickedAt: number;
  /** When the device's next connection was announced, if it came back within the wait. */
  readonly reconnectedAt?: number;
  /** Whether an `offline` arrived on the device's status topic after the kick (its will). */
  readonly willSeen: boolean;
}

export interface Observation {
  readonly deviceId: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly messages: readonly ObservedMessage[];
  /** Undefined for a passive run (no device key: the tester cannot kick). */
  readonly kicks?: readonly KickObservation[];
  /**
   * The broker's notices of the device's connections (`$parkpulse/connections/{deviceId}`), in
   * order: the retained one of its current connection, then one per reconnect. The tester's own
   * connections as the device (the kicks) are not among them.
   */
  readonly connections?: readonly ConnectionNotice[];
}

export const CLAUSE_IDS = [
  'topic',
  'schema',
  'ranges',
  'seq',
  'timestamp',
  'batch',
  'interval',
  'status',
  'will',
  'reconnect',
  'qos',
  'keepalive',
] as const;
export type ClauseId = (typeof CLAUSE_IDS)[number];

/** pass; warn (allowed, but not what the contract recommends); fail; skip (not observable / not checked). */
export type ClauseStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface ClauseResult {
  readonly id: ClauseId;
  readonly title: string;
  /** Where the contract states it (docs/telemetry-contract.md). */
  readonly ref: string;
  readonly status: ClauseStatus;
  readonly detail: string;
  /** Up to 5 examples of what broke it. */
  readonly examples: readonly string[];
}

export interface ConformanceThresholds {
  /** |ts − receive time| above this for a live sample: the clock is not synchronised (warn). */
  readonly maxDriftMs: number;
  /** A reconnect sooner than this after a drop is "no back-off" (fail). */
  readonly minReconnectMs: number;
  /** Median interval outside [low, high] × the asset type's report interval fails. */
  readonly intervalTolerance: { readonly low: number; readonly high: number };
  /**
   * Keep-alive, seconds: [low, high] passes (the contract's §1 range); from 1 s up to `max`
   * outside it warns; 0 (no keep-alive) or above `max` fails.
   */
  readonly keepaliveS: { readonly low: number; readonly high: number; readonly max: number };
}

export const DEFAULT_THRESHOLDS: ConformanceThresholds = {
  maxDriftMs: 5_000,
  minReconnectMs: 250,
  intervalTolerance: { low: 0.5, high: 2 },
  keepaliveS: { low: 30, high: 60, max: 120 },
};

const TITLES: Record<ClauseId, [string, string]> = {
  topic: ['topic shape', '§2'],
  schema: ['payload valid against the JSON Schema', '§3–§5, docs/schemas'],
  ranges: ['catalogue ranges and value sets', '§3'],
  seq: ['seq monotonic, gaps', '§3'],
  timestamp: ['ts in epoch ms, drift against receive time', '§3'],
  batch: ['batch sizes', '§3'],
  interval: ["report interval vs the asset type's", '§2'],
  status: ['retained status online', '§4'],
  will: ['last will: own status, offline, QoS 1, retained', '§1, §4'],
  reconnect: ['reconnect back-off and jitter', '§1'],
  qos: ['QoS 1 on telemetry, status, event', '§1'],
  keepalive: ['keep-alive', '§1'],
};

interface Sample {
  readonly ts: unknown;
  readonly seq: unknown;
  readonly receivedAt: number;
  readonly batch: boolean;
}

/** Judges what the observer saw, clause by clause. Pure: the same observation, the same verdict. */
export function evaluate(
  obs: Observation,
  thresholds: ConformanceThresholds = DEFAULT_THRESHOLDS,
  validator: ContractValidator = new ContractValidator(),
): ClauseResult[] {
  const results = new Map<ClauseId, Omit<ClauseResult, 'id' | 'title' | 'ref'>>();
  const set = (id: ClauseId, status: ClauseStatus, detail: string, examples: string[] = []) =>
    results.set(id, { status, detail, examples: examples.slice(0, 5) });

  // A command on the device's `…/cmd` is the operations service's publish, not the device's:
  // the device's part is its answer on `…/cmd_result`, judged like any up channel.
  const device = obs.messages.filter((m) => !m.topic.startsWith('$') && !isCommand(m.topic));
  const good: { m: ObservedMessage; channel: UpChannel; assetType: string }[] = [];
  const badTopics: string[] = [];
  for (const m of device) {
    const parsed = parseTopic(m.topic);
    if (!parsed.ok) badTopics.push(`${m.topic}: ${parsed.error.reason}: ${parsed.error.message}`);
    else if (!(UP_CHANNELS as readonly string[]).includes(parsed.value.channel))
      badTopics.push(`${m.topic}: "${parsed.value.channel}" is not an up channel`);
    else
      good.push({
        m,
        channel: parsed.value.channel as UpChannel,
        assetType: parsed.value.assetType,
      });
  }
  const addresses = new Set(good.map((g) => g.m.topic.split('/').slice(0, 5).join('/')));
  if (addresses.size > 1)
    badTopics.push(`published under ${addresses.size} addresses: ${[...addresses].join(', ')}`);
  set(
    'topic',
    device.length === 0 ? 'fail' : badTopics.length > 0 ? 'fail' : 'pass',
    device.length === 0
      ? 'nothing seen from this device'
      : badTopics.length > 0
        ? `${badTopics.length} of ${device.length} messages off the contract's topics`
        : `${device.length} messages on ${[...addresses].join(', ')}`,
    badTopics,
  );

  // Payloads, per channel, against the asset type's schema.
  const envelope: string[] = [];
  const ranges: string[] = [];
  const tsViolations: string[] = [];
  const samples: Sample[] = [];
  const batches: { size: number; bytes: number }[] = [];
  for (const { m, channel, assetType } of good) {
    if (channel === 'status' && m.payload.length === 0) {
      envelope.push(`${channel}: an empty (retained-clearing) status`);
      continue;
    }
    const verdict = validator.validate(channel, assetType, m.payload);
    for (const v of verdict.violations) {
      const line = `${channel}${v.path}: ${v.message}`;
      if (isCatalogueViolation(v)) ranges.push(line);
      // A command result's ts is not a sample's (a clock that is off is not refused there):
      // a violation of it is the schema's.
      else if (channel !== 'cmd_result' && isTimestampViolation(v)) tsViolations.push(line);
      else envelope.push(line);
    }
    if (channel !== 'telemetry') continue;
    const doc = parseJson(m.payload);
    if (!doc || typeof doc !== 'object') continue;
    const body = doc as { samples?: unknown; ts?: unknown; seq?: unknown };
    if (Array.isArray(body.samples)) {
      batches.push({ size: body.samples.length, bytes: m.payload.length });
      for (const s of body.samples as { ts?: unknown; seq?: unknown }[])
        samples.push({ ts: s?.ts, seq: s?.seq, receivedAt: m.receivedAt, batch: true });
    } else samples.push({ ts: body.ts, seq: body.seq, receivedAt: m.receivedAt, batch: false });
  }
  set(
    'schema',
    good.length === 0 ? 'skip' : envelope.length > 0 ? 'fail' : 'pass',
    good.length === 0
      ? 'no message on a contract topic'
      : envelope.length > 0
        ? `${envelope.length} violations`
        : `${good.length} payloads valid`,
    envelope,
  );
  set(
    'ranges',
    samples.length === 0 ? 'skip' : ranges.length > 0 ? 'fail' : 'pass',
    samples.length === 0
      ? 'no telemetry seen'
      : ranges.length > 0
        ? `${ranges.length} values outside the catalogue (the ingestion drops these fields)`
        : `every listed metric within its range in ${samples.length} samples`,
    ranges,
  );

  judgeSeq(samples, set);
  judgeTimestamps(samples, tsViolations, thresholds, set);

  const tooBig = batches.filter(
    (b) => b.size > DEFAULT_LIMITS.maxBatchSamples || b.bytes > DEFAULT_LIMITS.maxPayloadBytes,
  );
  set(
    'batch',
    tooBig.length > 0 ? 'fail' : 'pass',
    batches.length === 0
      ? 'no batch seen (single samples only)'
      : `${batches.length} batches, largest ${Math.max(...batches.map((b) => b.size))} samples / ${Math.max(...batches.map((b) => b.bytes))} bytes (limits ${DEFAULT_LIMITS.maxBatchSamples} / ${DEFAULT_LIMITS.maxPayloadBytes})`,
    tooBig.map((b) => `${b.size} samples, ${b.bytes} bytes`),
  );

  judgeInterval(good, samples, thresholds, set);
  judgeStatus(good, set);
  judgeKicks(obs.kicks, thresholds, set);
  judgeWill(obs, [...addresses], set);

  const qos0 = good.filter((g) => g.m.qos === 0);
  set(
    'qos',
    good.length === 0 ? 'skip' : qos0.length > 0 ? 'fail' : 'pass',
    good.length === 0
      ? 'no message on a contract topic'
      : qos0.length > 0
        ? `${qos0.length} of ${good.length} messages published at QoS 0`
        : `${good.length} messages at QoS ≥ 1 (QoS 1 and 2 look the same to a QoS-1 subscriber)`,
    qos0.map((g) => g.m.topic),
  );
  judgeKeepalive(obs.connections ?? [], thresholds, set);

  return CLAUSE_IDS.map((id) => {
    const [title, ref] = TITLES[id];
    return { id, title, ref, ...results.get(id)! };
  });
}

type Setter = (id: ClauseId, status: ClauseStatus, detail: string, examples?: string[]) => void;

function isCommand(topic: string): boolean {
  const parsed = parseTopic(topic);
  return parsed.ok && parsed.value.channel === 'cmd';
}

function isTimestampViolation(v: SchemaViolation): boolean {
  return /^(\/samples\/\d+)?\/ts$/.test(v.path);
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

function judgeSeq(samples: readonly Sample[], set: Setter): void {
  const withSeq = samples.filter((s) => typeof s.seq === 'number');
  if (samples.length === 0) return set('seq', 'skip', 'no telemetry seen');
  if (withSeq.length === 0)
    return set('seq', 'warn', 'no seq: duplicates and gaps are invisible (recommended, §3)');
  const back: string[] = [];
  let gaps = 0;
  let duplicates = 0;
  let last: { seq: number; ts: unknown } | undefined;
  for (const s of withSeq) {
    const seq = s.seq as number;
    if (last !== undefined) {
      if (seq === last.seq && s.ts === last.ts) duplicates++;
      else if (seq <= last.seq) back.push(`seq ${seq} after ${last.seq}`);
      else if (seq > last.seq + 1) gaps += seq - last.seq - 1;
    }
    if (last === undefined || seq > last.seq || seq < last.seq) last = { seq, ts: s.ts };
  }
  const range = `seq ${(withSeq[0]!.seq as number).toString()}…${String(withSeq.at(-1)!.seq)} in ${withSeq.length} samples`;
  const extra = `${duplicates} redelivered`;
  if (back.length > 0) return set('seq', 'fail', `${back.length} times back: ${range}`, back);
  if (gaps > 0) return set('seq', 'warn', `${gaps} missing in ${range}; ${extra}`);
  set('seq', 'pass', `${range}, monotonic, no gap; ${extra}`);
}

function judgeTimestamps(
  samples: readonly Sample[],
  schemaViolations: readonly string[],
  thresholds: ConformanceThresholds,
  set: Setter,
): void {
  if (samples.length === 0) return set('timestamp', 'skip', 'no telemetry seen');
  const problems = [...schemaViolations];
  const drifts: number[] = [];
  let missing = 0;
  let wholeSeconds = 0;
  let outside = 0;
  for (const s of samples) {
    if (s.ts === undefined || s.ts === null) {
      missing++;
      continue;
    }
    const parsed = parseTimestamp(s.ts);
    if (!parsed.ok) continue; // the schema said why
    const ts = parsed.value;
    if (typeof s.ts === 'number' && s.ts < MIN_EPOCH_MS) continue; // seconds: said above
    if (ts % 1000 === 0) wholeSeconds++;
    const drift = ts - s.receivedAt;
    if (drift > DEFAULT_LIMITS.maxFutureMs || drift < -DEFAULT_LIMITS.maxPastMs) {
      outside++;
      problems.push(`ts ${ts} is ${drift} ms from the receive time: outside the window`);
    }
    if (!s.batch) drifts.push(drift);
  }
  const worst =
    drifts.length > 0 ? drifts.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a)) : 0;
  const driftText =
    drifts.length > 0
      ? `worst drift ${worst} ms over ${drifts.length} live samples`
      : 'no live sample';
  if (problems.length > 0)
    return set(
      'timestamp',
      'fail',
      `${problems.length} timestamps break the contract (${outside} outside the window)`,
      problems,
    );
  if (missing > 0)
    return set(
      'timestamp',
      'warn',
      `${missing} samples without ts: stored at receive time, a redelivery is stored twice; ${driftText}`,
    );
  if (Math.abs(worst) > thresholds.maxDriftMs)
    return set(
      'timestamp',
      'warn',
      `${driftText}: the clock is off by more than ${thresholds.maxDriftMs} ms`,
    );
  if (samples.length >= 3 && wholeSeconds === samples.length)
    return set(
      'timestamp',
      'warn',
      `every ts is a whole second: millisecond precision is lost (two samples in one second overwrite each other)`,
    );
  set('timestamp', 'pass', `epoch ms; ${driftText}`);
}

function judgeInterval(
  good: readonly { m: ObservedMessage; channel: UpChannel; assetType: string }[],
  samples: readonly Sample[],
  thresholds: ConformanceThresholds,
  set: Setter,
): void {
  const assetType = good.find((g) => g.channel === 'telemetry')?.assetType;
  const expectedS = assetType ? getAssetType(assetType)?.reportIntervalS : undefined;
  const live = samples.filter((s) => !s.batch).map((s) => s.receivedAt);
  if (expectedS === undefined || live.length < 3)
    return set('interval', 'skip', `${live.length} live samples: too few to judge (need 3)`);
  const gaps = live
    .slice(1)
    .map((t, i) => t - live[i]!)
    .sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)]!;
  const ratio = median / (expectedS * 1000);
  const text = `median ${(median / 1000).toFixed(2)} s between live samples, ${assetType} reports every ${expectedS} s`;
  const { low, high } = thresholds.intervalTolerance;
  set('interval', ratio < low || ratio > high ? 'fail' : 'pass', text);
}

function judgeStatus(
  good: readonly { m: ObservedMessage; channel: UpChannel }[],
  set: Setter,
): void {
  const status = good.filter((g) => g.channel === 'status');
  const retained = status.filter((g) => g.m.retain);
  const text = (m: ObservedMessage) => {
    const s = m.payload.toString('utf8').trim();
    if (s === 'online' || s === 'offline') return s;
    const doc = parseJson(m.payload) as { state?: unknown } | undefined;
    return typeof doc?.state === 'string' ? doc.state : s.slice(0, 20);
  };
  const telemetry = good.some((g) => g.channel === 'telemetry');
  if (retained.length === 0)
    return set(
      'status',
      'fail',
      `no retained status on subscribing${status.length > 0 ? ` (${status.length} live, not retained: publish online with the retain flag)` : ''}`,
    );
  const first = text(retained[0]!.m);
  if (first !== 'online' && telemetry)
    return set(
      'status',
      'fail',
      `the retained status is "${first}" while the device publishes telemetry`,
    );
  set('status', 'pass', `retained "${first}"`);
}

function judgeKicks(
  kicks: readonly KickObservation[] | undefined,
  thresholds: ConformanceThresholds,
  set: Setter,
): void {
  if (kicks === undefined)
    return set(
      'reconnect',
      'skip',
      'passive run: give the device key (--device-key or --group-key) for the active check',
    );
  const delays = kicks.flatMap((k) =>
    k.reconnectedAt === undefined ? [] : [k.reconnectedAt - k.kickedAt],
  );
  const lost = kicks.length - delays.length;
  const list = delays.map((d) => `${d} ms`).join(', ');
  if (delays.length === 0) return set('reconnect', 'fail', 'did not reconnect after a kick');
  const tooFast = delays.filter((d) => d < thresholds.minReconnectMs);
  if (tooFast.length > 0)
    return set(
      'reconnect',
      'fail',
      `reconnected after ${list}: no back-off (at least ${thresholds.minReconnectMs} ms expected, e.g. 1 s doubling, each wait 50–100 %)`,
    );
  if (lost > 0)
    return set('reconnect', 'warn', `${lost} kicks without a reconnect within the wait; ${list}`);
  const spread = Math.max(...delays) - Math.min(...delays);
  const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
  if (delays.length >= 3 && spread < 0.05 * mean)
    return set('reconnect', 'warn', `reconnected after ${list}: no jitter visible`);
  set('reconnect', 'pass', `reconnected after ${list}`);
}

/**
 * The last will (§1, §4): on the device's own `…/{deviceId}/status`, QoS 1, retained, not empty
 * (as the broker's connection notices show it, for every connection of the device seen), and —
 * in an active run — `offline` published after every kick.
 */
function judgeWill(obs: Observation, addresses: readonly string[], set: Setter): void {
  const connections = obs.connections ?? [];
  const kicks = obs.kicks;
  const problems: string[] = [];
  const warnings: string[] = [];
  const own = (topic: string) => {
    const parsed = parseTopic(topic);
    if (!parsed.ok || parsed.value.channel !== 'status' || parsed.value.deviceId !== obs.deviceId)
      return false;
    // Where the device publishes, if it did: its will belongs there too.
    return addresses.length !== 1 || topic === `${addresses[0]}/status`;
  };
  for (const [i, c] of connections.entries()) {
    const which = connections.length > 1 ? `connection ${i + 1} of ${connections.length}: ` : '';
    const will = c.will;
    if (!will) {
      problems.push(`${which}no last will in the CONNECT`);
      continue;
    }
    if (!own(will.topic)) problems.push(`${which}will on ${will.topic}, not its own …/status`);
    if (will.qos === 0) problems.push(`${which}will at QoS 0 (the contract: QoS 1)`);
    else if (will.qos !== 1) warnings.push(`${which}will at QoS ${will.qos} (the contract: QoS 1)`);
    if (!will.retain)
      problems.push(`${which}will not retained: after it, the retained status still says online`);
    if (will.payloadBytes === 0)
      problems.push(`${which}empty will payload: it would clear the retained status`);
  }
  const lastWill = connections.at(-1)?.will;
  const flags = lastWill
    ? `will on ${lastWill.topic}, QoS ${lastWill.qos}, ${lastWill.retain ? 'retained' : 'not retained'}${lastWill.payloadBytes >= 0 ? `, ${lastWill.payloadBytes} bytes` : ''}`
    : '';
  const noWill = kicks ? kicks.filter((k) => !k.willSeen).length : 0;
  if (kicks && noWill > 0)
    problems.push(
      connections.length > 0 && connections.every((c) => c.will)
        ? `no offline on the status topic after ${noWill} of ${kicks.length} kicks: the will's payload is not offline`
        : `no offline on the status topic after ${noWill} of ${kicks.length} kicks: no last will set`,
    );
  const unique = [...new Set(problems)];
  const withoutWill = connections.filter((c) => !c.will).length;
  if (withoutWill > 0)
    return set(
      'will',
      'fail',
      `no will set: the broker's notice of ${withoutWill} of ${connections.length} connections shows none`,
      unique,
    );
  if (unique.length > 0) return set('will', 'fail', unique.join('; '), unique);
  if (connections.length === 0 && !kicks)
    return set(
      'will',
      'skip',
      'no connection notice from the broker, and a passive run: give the device key (--device-key or --group-key) for the active check',
    );
  const seen = kicks ? `offline published by the broker after each of ${kicks.length} kicks` : '';
  const detail = [
    flags,
    seen,
    kicks ? '' : 'passive run: the will was not triggered (its payload is unchecked)',
  ]
    .filter((t) => t !== '')
    .join('; ');
  set('will', warnings.length > 0 ? 'warn' : 'pass', detail, [...new Set(warnings)]);
}

/**
 * Keep-alive (§1: 30–60 s; the broker refuses 0 and above 1,200 s with CONNACK 6): inside the
 * contract's range passes; outside it, up to `max`, warns; 0 or above `max` fails — the broker
 * notices a device that is gone only after 1.5 × its keep-alive, and only then publishes its
 * will: above 120 s its retained status says `online` for more than 3 minutes after it died.
 */
function judgeKeepalive(
  connections: readonly ConnectionNotice[],
  thresholds: ConformanceThresholds,
  set: Setter,
): void {
  if (connections.length === 0)
    return set(
      'keepalive',
      'skip',
      'no connection notice from the broker ($parkpulse/connections/…): the device did not connect while watched, and no retained one',
    );
  const { low, high, max } = thresholds.keepaliveS;
  const values = [...new Set(connections.map((c) => c.keepaliveS))];
  const shown = values.map((v) => `${v} s`).join(', ');
  const failing = values.filter((v) => !(v >= 1 && v <= max));
  const outside = values.filter((v) => v < low || v > high);
  const range = `the contract's ${low}–${high} s`;
  if (failing.length > 0)
    return set(
      'keepalive',
      'fail',
      `keep-alive ${shown}: ${failing.some((v) => v < 1) ? '0 means none' : `above ${max} s`} (${range}); a dead device is noticed only after 1.5 × its keep-alive, and its will is published only then`,
      failing.map((v) => `${v} s`),
    );
  if (outside.length > 0)
    return set(
      'keepalive',
      'warn',
      `keep-alive ${shown}: allowed, but outside ${range}${outside.some((v) => v < low) ? ' (shorter: a device whose PUBACKs wait 1.5 × its keep-alive is disconnected, §7)' : ''}`,
      outside.map((v) => `${v} s`),
    );
  set('keepalive', 'pass', `keep-alive ${shown}, within ${range}`);
}
