import {
  buildSamples,
  CardinalityGuard,
  DEFAULT_LIMITS,
  decodeSparkplugPayload,
  parseSparkplugTopic,
  SPARKPLUG_DATATYPES,
  validateSample,
  type ContractLimits,
  type FieldDrop,
  type NamedMetric,
  type ParsedTopic,
  type RejectReason,
  type Result,
  type Sample,
  type SparkplugMetric,
  type SparkplugPayload,
  type SparkplugTopic,
  type StatusMessage,
  type TelemetryMessage,
} from '@parkpulse/telemetry';
import {
  MappingIndex,
  type MappedNode,
  type MappedTarget,
  type SparkplugMapping,
} from './mapping.js';
import {
  hostStateMessages,
  rebirthRequest,
  type HostStateMessages,
  type SparkplugPublish,
} from './messages.js';

/** Counted events that are not dead letters. Stable codes, like the reject reasons. */
export const SPARKPLUG_NOTES = [
  /** A rebirth request was published (and why: the `detail`). */
  'rebirth_requested',
  /** A rebirth was due but one was sent to this node less than `rebirthMinIntervalMs` ago. */
  'rebirth_suppressed',
  /** A message arrived with a seq ahead of the next one: the reorder timer runs. */
  'seq_gap',
  /** The missing messages arrived within the reorder timeout. */
  'seq_gap_closed',
  /** The reorder timeout elapsed with messages still missing. */
  'seq_gap_timeout',
  /** A seq seen already in this session (a redelivery): stored again, idempotently. */
  'seq_repeated',
  /** A message that must carry a seq carries none. */
  'seq_missing',
  /**
   * The current session's NBIRTH again (same bdSeq and timestamp: a QoS-1 redelivery, e.g. after
   * a restart of the ingestion): stored again at its ledger seq, the session kept as it is.
   */
  'nbirth_repeated',
  /** An NBIRTH without the `bdSeq` metric: its NDEATH is then accepted whatever it carries. */
  'bdseq_missing',
  /** An NDEATH whose bdSeq is not the current session's: a stale will, ignored. */
  'ndeath_ignored',
  /** A command or another host's STATE seen on the way in: nothing to store. */
  'not_for_host',
] as const;
export type SparkplugNote = (typeof SPARKPLUG_NOTES)[number];

export interface SparkplugHostOptions {
  readonly mapping: SparkplugMapping;
  /** The contract's limits (payload size, timestamp window, string length). */
  readonly limits?: ContractLimits;
  /** Shared with the other decoders' messages, so the bounds hold for the park as a whole. */
  readonly cardinality?: CardinalityGuard;
  /**
   * How long a seq gap may stay open before a rebirth is requested
   * [tck-id-operational-behavior-host-reordering-param]. Default 5 s.
   */
  readonly reorderTimeoutMs?: number;
  /** At most one rebirth request per edge node per this many ms. Default 10 s. */
  readonly rebirthMinIntervalMs?: number;
}

export const DEFAULT_REORDER_TIMEOUT_MS = 5_000;
export const DEFAULT_REBIRTH_MIN_INTERVAL_MS = 10_000;

export interface SparkplugInbound {
  readonly topic: string;
  readonly payload: Buffer;
  /** Epoch ms; the host's clock for everything (timers, rate limits, presence). */
  readonly receivedAt: number;
}

/** A message-level refusal: the message is a dead letter with this reason. */
export interface SparkplugReject {
  readonly reason: RejectReason;
  readonly detail: string;
}

/** One message for the delivery ledger: `DeliveryLedger.record(topic, seq, ts, storedAt)`. */
export interface SparkplugLedgerEntry {
  /** The edge node's ParkPulse address: seq is counted per edge node. */
  readonly topic: ParsedTopic;
  /** The 0–255 seq unwrapped into a counter that only grows within the node's history here. */
  readonly seq: number;
  /** The message's timestamp (epoch ms). */
  readonly ts: number;
}

export interface SparkplugOutcome {
  /** What to store: at most one message (one device) per inbound message. */
  readonly telemetry: readonly TelemetryMessage[];
  /** Online (BIRTH) / offline (DEATH) of nodes and devices, as the `status` channel's messages. */
  readonly status: readonly StatusMessage[];
  /** Non-empty: the message is a dead letter (the first reject is its reason). */
  readonly rejects: readonly SparkplugReject[];
  readonly ledger: readonly SparkplugLedgerEntry[];
  /** To publish through the broker (rebirth requests). */
  readonly publishes: readonly SparkplugPublish[];
  /** Counted events (also in `counters()`). */
  readonly notes: readonly { readonly note: SparkplugNote; readonly detail: string }[];
}

interface AliasEntry {
  /** Sparkplug device id; undefined for the node's own metrics. */
  readonly device: string | undefined;
  readonly name: string;
  readonly datatype: number;
}

interface Session {
  /** bdSeq of the NBIRTH; undefined when the NBIRTH carried none. */
  readonly bdSeq: number | undefined;
  /** The NBIRTH's payload timestamp, to know it again when it is redelivered. */
  readonly birthTs: number | undefined;
  /** The NBIRTH's unwrapped seq counter (its ledger seq); undefined when it carried no seq. */
  readonly birthCounter: number | undefined;
  readonly aliases: Map<number, AliasEntry>;
  /** Per Sparkplug device id (`''` for the node): metric name → datatype from its BIRTH. */
  readonly births: Map<string, Map<string, number>>;
}

interface NodeState {
  session: Session | undefined;
  /** Last seq (0–255) in order, and its unwrapped counter value. */
  lastSeq: number;
  counter: number;
  /** Missing seqs (0–255) → their unwrapped counter values. */
  readonly missing: Map<number, number>;
  reorderDeadline: number | undefined;
  lastRebirthAt: number | undefined;
}

const NODE_KEY = '';

/**
 * What the host knows of its edge nodes, as plain JSON (`snapshot` / `restore`): sessions with
 * their aliases and BIRTH datatypes, seq and its unwrapped counter, open gaps. Kept across a
 * restart, DATA of a session born before it is still read (no rebirth storm, nothing refused)
 * and the ledger's seq counters go on where they were.
 */
export interface SparkplugHostSnapshot {
  readonly version: 1;
  readonly nodes: readonly {
    readonly key: string;
    readonly session?: {
      readonly bdSeq?: number;
      readonly birthTs?: number;
      readonly birthCounter?: number;
      readonly aliases: readonly [number, string | null, string, number][];
      readonly births: readonly [string, readonly [string, number][]][];
    };
    readonly lastSeq: number;
    readonly counter: number;
    readonly missing: readonly [number, number][];
    readonly reorderDeadline?: number;
    readonly lastRebirthAt?: number;
  }[];
}

/**
 * ParkPulse as a Sparkplug B 3.0 host application, as a pure function of the messages it is
 * given and the clock they carry: no I/O, no timers of its own (call `tick` every second or so).
 *
 * Per edge node it tracks the session (bdSeq from NBIRTH), seq 0–255 with its wrap and a
 * reorder timeout, and the aliases, names and datatypes declared in NBIRTH/DBIRTH; it turns
 * BIRTH and DATA into the same telemetry messages the JSON contract produces, DEATHs and
 * BIRTHs into status, and whatever it cannot make sense of into a rebirth request (rate
 * limited per node) and a counted reason.
 */
export class SparkplugHost {
  readonly mapping: MappingIndex;
  private readonly limits: ContractLimits;
  private readonly guard: CardinalityGuard;
  private readonly reorderTimeoutMs: number;
  private readonly rebirthMinIntervalMs: number;
  private readonly nodes = new Map<string, NodeState>();
  private readonly counts = new Map<string, number>();

  constructor(options: SparkplugHostOptions) {
    this.mapping = new MappingIndex(options.mapping);
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.guard = options.cardinality ?? new CardinalityGuard();
    this.reorderTimeoutMs = options.reorderTimeoutMs ?? DEFAULT_REORDER_TIMEOUT_MS;
    this.rebirthMinIntervalMs = options.rebirthMinIntervalMs ?? DEFAULT_REBIRTH_MIN_INTERVAL_MS;
  }

  /** The host's STATE birth (publish after CONNACK) and death (the will), for `connectedAt`. */
  stateMessages(connectedAt: number): HostStateMessages {
    return hostStateMessages(this.mapping.mapping.hostId, connectedAt);
  }

  /** One inbound message on a `spBv1.0/…` topic. Never throws. */
  handle(message: SparkplugInbound): SparkplugOutcome {
    const out = new Outcome(this.counts);
    const topic = parseSparkplugTopic(message.topic);
    if (!topic.ok) return rejected(out, topic.error.reason, topic.error.detail);
    const t = topic.value;
    if (t.kind === 'state') return noted(out, 'not_for_host', `STATE of ${t.hostId}`);
    if (t.verb === 'NCMD' || t.verb === 'DCMD') return noted(out, 'not_for_host', t.verb);
    const mapped = this.mapping.node(t.group, t.node);
    if (!mapped)
      return rejected(
        out,
        'sparkplug_unmapped',
        `edge node ${t.group}/${t.node} is not in the registry`,
      );
    let device: MappedTarget = mapped;
    if (t.kind === 'device') {
      const d = mapped.devices.get(t.device);
      if (!d)
        return rejected(
          out,
          'sparkplug_unmapped',
          `device ${t.device} of edge node ${t.group}/${t.node} is not in the registry`,
        );
      device = d;
    }
    if (message.payload.length > this.limits.maxPayloadBytes)
      return rejected(
        out,
        'payload_too_large',
        `${message.payload.length} bytes, at most ${this.limits.maxPayloadBytes}`,
      );
    const decoded = decodeSparkplugPayload(message.payload);
    if (!decoded.ok) return rejected(out, decoded.error.reason, decoded.error.detail);
    const payload = decoded.value;
    const now = message.receivedAt;
    const state = this.nodeState(t.group, t.node);
    this.checkReorder(t.group, t.node, state, mapped, now, out);

    switch (t.verb) {
      case 'NBIRTH':
        return this.nbirth(t, mapped, state, payload, now, out);
      case 'NDEATH':
        return this.ndeath(t, mapped, state, payload, now, out);
      case 'DBIRTH':
      case 'DDATA':
      case 'DDEATH':
      case 'NDATA':
        return this.inSession(t, mapped, device, state, payload, now, out);
    }
  }

  /**
   * Timers: every edge node whose seq gap outlived the reorder timeout gets a rebirth request
   * [tck-id-operational-behavior-host-reordering-rebirth].
   */
  tick(now: number): SparkplugOutcome {
    const out = new Outcome(this.counts);
    for (const [key, state] of this.nodes) {
      const [group = '', node = ''] = splitKey(key);
      const mapped = this.mapping.node(group, node);
      if (mapped) this.checkReorder(group, node, state, mapped, now, out);
    }
    return out.done();
  }

  /** Every note and reject reason counted since start. */
  counters(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.counts);
  }

  /** The state of every edge node, to `restore` after a restart. */
  snapshot(): SparkplugHostSnapshot {
    return {
      version: 1,
      nodes: [...this.nodes].map(([key, n]) => ({
        key,
        ...(n.session
          ? {
              session: {
                ...(n.session.bdSeq !== undefined ? { bdSeq: n.session.bdSeq } : {}),
                ...(n.session.birthTs !== undefined ? { birthTs: n.session.birthTs } : {}),
                ...(n.session.birthCounter !== undefined
                  ? { birthCounter: n.session.birthCounter }
                  : {}),
                aliases: [...n.session.aliases].map(
                  ([alias, e]) => [alias, e.device ?? null, e.name, e.datatype] as const,
                ),
                births: [...n.session.births].map(
                  ([device, names]) => [device, [...names]] as const,
                ),
              },
            }
          : {}),
        lastSeq: n.lastSeq,
        counter: n.counter,
        missing: [...n.missing],
        ...(n.reorderDeadline !== undefined ? { reorderDeadline: n.reorderDeadline } : {}),
        ...(n.lastRebirthAt !== undefined ? { lastRebirthAt: n.lastRebirthAt } : {}),
      })),
    };
  }

  /** Takes over a `snapshot` (of a previous process); nodes it does not name are unchanged. */
  restore(snapshot: SparkplugHostSnapshot): void {
    if ((snapshot.version as number) !== 1)
      throw new Error(`sparkplug host state version ${String(snapshot.version)}`);
    for (const n of snapshot.nodes) {
      const session: Session | undefined = n.session && {
        bdSeq: n.session.bdSeq,
        birthTs: n.session.birthTs,
        birthCounter: n.session.birthCounter,
        aliases: new Map(
          n.session.aliases.map(([alias, device, name, datatype]) => [
            alias,
            { device: device ?? undefined, name, datatype },
          ]),
        ),
        births: new Map(n.session.births.map(([device, names]) => [device, new Map(names)])),
      };
      this.nodes.set(n.key, {
        session,
        lastSeq: n.lastSeq,
        counter: n.counter,
        missing: new Map(n.missing),
        reorderDeadline: n.reorderDeadline,
        lastRebirthAt: n.lastRebirthAt,
      });
    }
  }

  /** Whether the edge node has a session (an NBIRTH not followed by its NDEATH). */
  isOnline(group: string, node: string): boolean {
    return this.nodes.get(`${group}/${node}`)?.session !== undefined;
  }

  private nodeState(group: string, node: string): NodeState {
    const key = `${group}/${node}`;
    let s = this.nodes.get(key);
    if (!s) {
      s = {
        session: undefined,
        lastSeq: -1,
        counter: -1,
        missing: new Map(),
        reorderDeadline: undefined,
        lastRebirthAt: undefined,
      };
      this.nodes.set(key, s);
    }
    return s;
  }

  private checkReorder(
    group: string,
    node: string,
    state: NodeState,
    mapped: MappedNode,
    now: number,
    out: Outcome,
  ): void {
    if (state.reorderDeadline === undefined || now < state.reorderDeadline) return;
    out.note('seq_gap_timeout', `${state.missing.size} message(s) of ${group}/${node} missing`);
    state.missing.clear();
    state.reorderDeadline = undefined;
    this.requestRebirth(group, node, state, mapped, now, 'seq gap not closed in time', out);
  }

  private requestRebirth(
    group: string,
    node: string,
    state: NodeState,
    _mapped: MappedNode,
    now: number,
    why: string,
    out: Outcome,
  ): void {
    if (
      state.lastRebirthAt !== undefined &&
      now - state.lastRebirthAt < this.rebirthMinIntervalMs
    ) {
      out.note('rebirth_suppressed', `${group}/${node}: ${why}`);
      return;
    }
    state.lastRebirthAt = now;
    out.publish(rebirthRequest(group, node, now));
    out.note('rebirth_requested', `${group}/${node}: ${why}`);
  }

  private nbirth(
    t: SparkplugTopic & { kind: 'node' },
    mapped: MappedNode,
    state: NodeState,
    payload: SparkplugPayload,
    now: number,
    out: Outcome,
  ): SparkplugOutcome {
    const bdSeqMetric = payload.metrics.find((m) => m.name === 'bdSeq');
    const bdSeq = bdSeqMetric ? integerOf(bdSeqMetric) : undefined;
    if (bdSeq === undefined) out.note('bdseq_missing', `${t.group}/${t.node}`);
    const current = state.session;
    if (
      current &&
      bdSeq !== undefined &&
      current.bdSeq === bdSeq &&
      payload.timestamp !== undefined &&
      current.birthTs === payload.timestamp
    ) {
      // The NBIRTH this session began with, again (QoS-1 redelivery: the previous process may
      // not have stored it). A new session carries a new timestamp, even with Tahu's bdSeq 0 on
      // every connect. Starting over would drop the DBIRTHs' aliases and bump the ledger's seq
      // counter past DATA handled since; instead it is stored again at its own ledger seq.
      out.note('nbirth_repeated', `${t.group}/${t.node}: bdSeq ${bdSeq}`);
      if (current.birthCounter !== undefined)
        out.ledger({ topic: mapped.topic, seq: current.birthCounter, ts: payload.timestamp });
      out.status({ topic: mapped.topic, online: true, ts: now });
      const named = this.declare(current, NODE_KEY, payload.metrics, out);
      return this.store(mapped, payload, named, now, out);
    }
    // A new session: aliases, births and seq start over [tck-id-payloads-nbirth-seq].
    state.missing.clear();
    state.reorderDeadline = undefined;
    if (payload.seq === undefined) {
      out.note('seq_missing', `NBIRTH of ${t.group}/${t.node}`);
    } else {
      state.lastSeq = payload.seq;
      state.counter += 1;
      out.ledger({ topic: mapped.topic, seq: state.counter, ts: payload.timestamp ?? now });
    }
    const session: Session = {
      bdSeq,
      birthTs: payload.timestamp,
      birthCounter: payload.seq === undefined ? undefined : state.counter,
      aliases: new Map(),
      births: new Map(),
    };
    state.session = session;
    out.status({ topic: mapped.topic, online: true, ts: now });
    const named = this.declare(session, NODE_KEY, payload.metrics, out);
    return this.store(mapped, payload, named, now, out);
  }

  private ndeath(
    t: SparkplugTopic & { kind: 'node' },
    mapped: MappedNode,
    state: NodeState,
    payload: SparkplugPayload,
    now: number,
    out: Outcome,
  ): SparkplugOutcome {
    const bdSeqMetric = payload.metrics.find((m) => m.name === 'bdSeq');
    const bdSeq = bdSeqMetric ? integerOf(bdSeqMetric) : undefined;
    const session = state.session;
    // [tck-id-payloads-ndeath-bdseq]: an NDEATH belongs to the session whose NBIRTH carried its
    // bdSeq; any other is the late will of an older connection.
    if (session && session.bdSeq !== undefined && bdSeq !== session.bdSeq)
      return noted(
        out,
        'ndeath_ignored',
        `${t.group}/${t.node}: NDEATH bdSeq ${bdSeq ?? 'none'}, session bdSeq ${session.bdSeq}`,
      );
    state.session = undefined;
    state.missing.clear();
    state.reorderDeadline = undefined;
    // [tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-offline],
    // [...-ndeath-devices-offline]: the node and every device it carried, at the host's time.
    out.status({ topic: mapped.topic, online: false, ts: now });
    for (const id of session?.births.keys() ?? []) {
      const d = id === NODE_KEY ? undefined : mapped.devices.get(id);
      if (d) out.status({ topic: d.topic, online: false, ts: now });
    }
    return out.done();
  }

  private inSession(
    t: SparkplugTopic & { kind: 'node' | 'device' },
    mapped: MappedNode,
    target: MappedTarget,
    state: NodeState,
    payload: SparkplugPayload,
    now: number,
    out: Outcome,
  ): SparkplugOutcome {
    const session = state.session;
    const where = t.kind === 'device' ? `${t.group}/${t.node}/${t.device}` : `${t.group}/${t.node}`;
    if (!session) {
      this.requestRebirth(t.group, t.node, state, mapped, now, `${t.verb} before NBIRTH`, out);
      return rejected(out, 'sparkplug_no_birth', `${t.verb} of ${where} before any NBIRTH`);
    }
    this.trackSeq(t, mapped, state, payload, now, out);
    const deviceKey = t.kind === 'device' ? t.device : NODE_KEY;
    if (t.verb === 'DBIRTH') {
      out.status({ topic: target.topic, online: true, ts: now });
      const named = this.declare(session, deviceKey, payload.metrics, out);
      return this.store(target, payload, named, now, out);
    }
    if (t.verb === 'DDEATH') {
      forgetDevice(session, deviceKey);
      out.status({ topic: target.topic, online: false, ts: now });
      return out.done();
    }
    const birth = session.births.get(deviceKey);
    if (t.kind === 'device' && !birth) {
      this.requestRebirth(
        t.group,
        t.node,
        state,
        mapped,
        now,
        `DDATA of ${t.device} before DBIRTH`,
        out,
      );
      return rejected(out, 'sparkplug_no_birth', `DDATA of ${where} before its DBIRTH`);
    }
    const named: NamedMetric[] = [];
    let unknownAlias = false;
    for (const metric of payload.metrics) {
      const resolved = resolve(session, deviceKey, metric);
      if (typeof resolved === 'string') {
        if (resolved === 'unknown_alias') unknownAlias = true;
        out.drop({
          metric: metric.name ?? `alias ${metric.alias ?? '?'}`,
          reason: resolved,
          detail:
            resolved === 'unknown_alias'
              ? `no BIRTH of ${where} declared this alias`
              : `no datatype, and no BIRTH of ${where} declared "${metric.name ?? ''}"`,
        });
        continue;
      }
      named.push(resolved);
    }
    // [tck-id-payloads-alias-data-cmd-requirement]: DATA refers to metrics by the aliases of
    // the BIRTH; one the host does not know means it missed that BIRTH.
    if (unknownAlias)
      this.requestRebirth(
        t.group,
        t.node,
        state,
        mapped,
        now,
        `unknown alias in ${t.verb} of ${where}`,
        out,
      );
    return this.store(target, payload, named, now, out);
  }

  /**
   * Seq tracking [tck-id-payloads-sequence-num-incrementing]: +1 per message, 255 → 0. A seq
   * ahead of the next opens a gap and starts the reorder timer
   * [tck-id-operational-behavior-host-reordering-start]; the missing ones arriving in time
   * close it [tck-id-operational-behavior-host-reordering-success]. Every message is stored as
   * it comes: storage is idempotent per timestamp, so order does not matter, only loss does.
   */
  private trackSeq(
    t: SparkplugTopic & { kind: 'node' | 'device' },
    mapped: MappedNode,
    state: NodeState,
    payload: SparkplugPayload,
    now: number,
    out: Outcome,
  ): void {
    const seq = payload.seq;
    const ts = payload.timestamp ?? now;
    if (seq === undefined) {
      out.note('seq_missing', `${t.verb} of ${t.group}/${t.node}`);
      return;
    }
    const expected = (state.lastSeq + 1) & 0xff;
    const ahead = (seq - expected) & 0xff;
    if (ahead === 0) {
      state.lastSeq = seq;
      state.counter += 1;
      out.ledger({ topic: mapped.topic, seq: state.counter, ts });
      return;
    }
    if (ahead < 128) {
      for (let i = 0; i < ahead; i++)
        state.missing.set((expected + i) & 0xff, state.counter + 1 + i);
      state.counter += ahead + 1;
      state.lastSeq = seq;
      state.reorderDeadline ??= now + this.reorderTimeoutMs;
      out.note('seq_gap', `${t.group}/${t.node}: expected seq ${expected}, got ${seq}`);
      out.ledger({ topic: mapped.topic, seq: state.counter, ts });
      return;
    }
    const filled = state.missing.get(seq);
    if (filled !== undefined) {
      state.missing.delete(seq);
      out.ledger({ topic: mapped.topic, seq: filled, ts });
      if (state.missing.size === 0) {
        state.reorderDeadline = undefined;
        out.note('seq_gap_closed', `${t.group}/${t.node}`);
      }
      return;
    }
    out.note('seq_repeated', `${t.group}/${t.node}: seq ${seq} again`);
    out.ledger({ topic: mapped.topic, seq: state.counter - ((state.lastSeq - seq) & 0xff), ts });
  }

  /**
   * A BIRTH's metrics: names, datatypes and aliases for the DATA to come. Aliases are unique
   * across the edge node's whole set of metrics [tck-id-payloads-alias-uniqueness]: a second
   * metric with an alias in use is refused (`alias_collision`), the first keeps it.
   */
  private declare(
    session: Session,
    deviceKey: string,
    metrics: readonly SparkplugMetric[],
    out: Outcome,
  ): NamedMetric[] {
    forgetDevice(session, deviceKey);
    const names = new Map<string, number>();
    session.births.set(deviceKey, names);
    const named: NamedMetric[] = [];
    for (const metric of metrics) {
      // [tck-id-payloads-alias-birth-requirement]: BIRTH metrics carry name and datatype.
      if (metric.name === undefined || metric.datatype === undefined) {
        out.drop({
          metric: metric.name ?? `alias ${metric.alias ?? '?'}`,
          reason: metric.name === undefined ? 'metric_name_invalid' : 'unknown_datatype',
          detail: 'a BIRTH metric must carry its name and datatype',
        });
        continue;
      }
      if (metric.alias !== undefined) {
        const taken = session.aliases.get(metric.alias);
        if (taken && !(taken.device === deviceKeyOf(deviceKey) && taken.name === metric.name)) {
          out.drop({
            metric: metric.name,
            reason: 'alias_collision',
            detail: `alias ${metric.alias} is "${taken.name}"${taken.device ? ` of ${taken.device}` : ''} already`,
          });
          continue;
        }
        session.aliases.set(metric.alias, {
          device: deviceKeyOf(deviceKey),
          name: metric.name,
          datatype: metric.datatype,
        });
      }
      names.set(metric.name, metric.datatype);
      named.push({ name: metric.name, datatype: metric.datatype, metric });
    }
    return named;
  }

  /** Named metrics → a validated, bounded telemetry message of `target`, or nothing to store. */
  private store(
    target: MappedTarget,
    payload: SparkplugPayload,
    named: readonly NamedMetric[],
    now: number,
    out: Outcome,
  ): SparkplugOutcome {
    const dropped = out.dropped;
    const raw = buildSamples(
      named,
      payload.timestamp,
      { receivedAt: now, limits: this.limits },
      target.rename,
      dropped,
    );
    if (!raw.ok) return rejected(out, raw.error.reason, raw.error.detail);
    const samples: Sample[] = [];
    for (const r of raw.value) {
      const sample = validateSample(target.topic.asset, r, this.limits, dropped);
      if (!sample.ok) return rejected(out, sample.error.reason, sample.error.detail);
      if (Object.keys(sample.value.fields).length > 0) samples.push(sample.value);
    }
    if (samples.length === 0) {
      // Nothing left to store. A BIRTH of session metrics only is no error; fields that were
      // all refused make the message a dead letter, as in contract v1.
      if (dropped.length > 0)
        return rejected(
          out,
          'no_valid_fields',
          dropped
            .map((d) => `${d.metric}: ${d.reason}`)
            .join('; ')
            .slice(0, 400),
        );
      return out.done();
    }
    const bounded: Result<TelemetryMessage> = this.guard.check({
      topic: target.topic,
      samples,
      dropped: [...dropped],
    });
    if (!bounded.ok) return rejected(out, bounded.error.reason, bounded.error.detail);
    out.telemetry(bounded.value);
    return out.done();
  }
}

function deviceKeyOf(key: string): string | undefined {
  return key === NODE_KEY ? undefined : key;
}

function forgetDevice(session: Session, deviceKey: string): void {
  const device = deviceKeyOf(deviceKey);
  for (const [alias, entry] of session.aliases)
    if (entry.device === device) session.aliases.delete(alias);
  session.births.delete(deviceKey);
}

/** A DATA metric → its BIRTH's name and datatype (by alias, else by name), or why not. */
function resolve(
  session: Session,
  deviceKey: string,
  metric: SparkplugMetric,
): NamedMetric | 'unknown_alias' | 'unknown_datatype' {
  if (metric.alias !== undefined && metric.name === undefined) {
    const entry = session.aliases.get(metric.alias);
    if (!entry || entry.device !== deviceKeyOf(deviceKey)) return 'unknown_alias';
    return { name: entry.name, datatype: metric.datatype ?? entry.datatype, metric };
  }
  if (metric.name === undefined) return 'unknown_alias';
  const datatype = metric.datatype ?? session.births.get(deviceKey)?.get(metric.name);
  if (datatype === undefined) return 'unknown_datatype';
  return { name: metric.name, datatype, metric };
}

/** An integer metric's value (bdSeq is Int64 in the specification; UInt64 and ints accepted). */
function integerOf(metric: SparkplugMetric): number | undefined {
  const v = metric.value;
  if (!v) return undefined;
  if (v.kind === 'long') {
    const n = metric.datatype === SPARKPLUG_DATATYPES.Int64 ? BigInt.asIntN(64, v.value) : v.value;
    return Number(n);
  }
  if (v.kind === 'int' || v.kind === 'double' || v.kind === 'float')
    return Number.isInteger(v.value) ? v.value : undefined;
  return undefined;
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** Collects one call's outcome and counts its notes, rejects and dropped fields. */
class Outcome {
  private readonly t: TelemetryMessage[] = [];
  private readonly s: StatusMessage[] = [];
  private readonly r: SparkplugReject[] = [];
  private readonly l: SparkplugLedgerEntry[] = [];
  private readonly p: SparkplugPublish[] = [];
  private readonly n: { note: SparkplugNote; detail: string }[] = [];
  /** Fields refused so far, before a telemetry message exists to carry them. */
  readonly dropped: FieldDrop[] = [];

  constructor(private readonly counts: Map<string, number>) {}

  private count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  telemetry(m: TelemetryMessage): void {
    this.t.push(m);
  }
  status(m: StatusMessage): void {
    this.s.push(m);
  }
  ledger(e: SparkplugLedgerEntry): void {
    this.l.push(e);
  }
  publish(p: SparkplugPublish): void {
    this.p.push(p);
  }
  drop(d: FieldDrop): void {
    this.dropped.push(d);
  }
  note(note: SparkplugNote, detail: string): void {
    this.count(note);
    this.n.push({ note, detail });
  }
  reject(reason: RejectReason, detail: string): void {
    this.count(reason);
    this.r.push({ reason, detail });
  }

  /** The outcome; call once, last. */
  done(): SparkplugOutcome {
    const drops = this.t.length > 0 ? this.t.flatMap((m) => m.dropped) : this.dropped;
    for (const d of drops) this.count(`field_${d.reason}`);
    return {
      telemetry: this.t,
      status: this.s,
      rejects: this.r,
      ledger: this.l,
      publishes: this.p,
      notes: this.n,
    };
  }
}

function rejected(out: Outcome, reason: RejectReason, detail: string): SparkplugOutcome {
  out.reject(reason, detail);
  return out.done();
}

function noted(out: Outcome, note: SparkplugNote, detail: string): SparkplugOutcome {
  out.note(note, detail);
  return out.done();
}
