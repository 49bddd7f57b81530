import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import {
  CONDITION_NORMAL,
  NEW_ALARM,
  alarmDefinitions,
  alarmId,
  canAcknowledge,
  computeKpis,
  definitionsByAssetType,
  observe,
  priorityRank,
  stateOf,
  tick,
  transition,
  type AlarmDefinition,
  type AlarmEvent,
  type AlarmKpis,
  type ConditionState,
  type FieldLike,
} from '@parkpulse/alarms';
import { MEASUREMENT, alarmEventPoint } from '@parkpulse/influx';
import type { ParkId, TopicAddress } from '@parkpulse/telemetry';
import { OperationsError } from '../api/errors.js';
import { OPERATIONS_CONFIG, type OperationsConfig } from '../config/operations-config.js';
import { PointsWriter } from '../points/points-writer.service.js';
import type { AlarmEventRecord, AlarmRecord, CommandStore } from '../store/command-store.js';
import { COMMAND_STORE } from '../store/store.module.js';

type Address = Omit<TopicAddress, 'channel'>;

/** An alarm as the API shows it. */
export interface AlarmView {
  readonly id: string;
  readonly definitionId: string;
  readonly name: string;
  readonly park: string;
  readonly site: string;
  readonly assetType: string;
  readonly deviceId: string;
  readonly state: AlarmRecord['state'];
  readonly priority: AlarmRecord['priority'];
  readonly active: boolean;
  readonly activation: number;
  readonly raisedAt: string | null;
  readonly updatedAt: string;
  readonly value: FieldLike | null;
  readonly limit: number | null;
  readonly shelf: { readonly until: string; readonly by: string; readonly reason: string } | null;
  readonly outOfService: { readonly by: string; readonly reason: string } | null;
  readonly consequence: string;
  readonly response: string;
  readonly acknowledgeable: boolean;
}

export interface AlarmHistoryView {
  readonly at: string;
  readonly by: string;
  readonly action: string;
  readonly fromState: string;
  readonly toState: string;
  readonly comment: string;
  readonly value: FieldLike | null;
}

interface Live {
  record: AlarmRecord | undefined;
  /** The condition as evaluated, including a pending delay (not stored). */
  condition: ConditionState;
  readonly definition: AlarmDefinition;
  readonly address: Address;
  value: FieldLike | null;
}

export type AlarmListener = (alarm: AlarmView) => void;

const SYSTEM = 'system';

/**
 * The alarms: definitions from the catalogue, evaluated on the live stream (samples, events,
 * presence), every transition stored (the database is the record and what a restart resumes
 * from), written as `alarm_event` to InfluxDB and pushed to the live feed. Changes to one alarm
 * are applied one at a time (a queue per alarm), each a compare-and-set on its stored version.
 */
@Injectable()
export class AlarmEngine implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('Alarms');
  readonly definitions: readonly AlarmDefinition[];
  private readonly byAsset: Map<string, AlarmDefinition[]>;
  private readonly byId: Map<string, AlarmDefinition>;
  private readonly alarms = new Map<string, Live>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly listeners = new Set<AlarmListener>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(OPERATIONS_CONFIG) private readonly config: OperationsConfig,
    @Inject(COMMAND_STORE) private readonly store: CommandStore,
    private readonly points: PointsWriter,
  ) {
    this.definitions = alarmDefinitions({ delayScale: config.alarms.delayScale });
    this.byAsset = definitionsByAssetType(this.definitions);
    this.byId = new Map(this.definitions.map((d) => [d.id, d]));
  }

  async onModuleInit(): Promise<void> {
    for (const record of await this.store.listAlarms()) {
      const definition = this.byId.get(record.definitionId);
      if (!definition) continue; // a definition this build no longer has
      this.alarms.set(record.id, {
        record,
        condition: record.condition,
        definition,
        address: record as unknown as Address,
        value: record.value,
      });
    }
    this.timer = setInterval(() => this.tickAll(), this.config.alarms.tickMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.queues.values()].map((q) => q.catch(() => undefined)));
  }

  onChange(listener: AlarmListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- the live stream -------------------------------------------------------------------------

  /** A sample of a device: every definition on one of its metrics observes it. */
  sample(address: Address, fields: Readonly<Record<string, FieldLike>>, at: number): void {
    for (const d of this.byAsset.get(address.assetType) ?? []) {
      const s = d.source;
      if (s.kind !== 'limit' && s.kind !== 'discrete') continue;
      const value = fields[s.metric];
      const suppressor = d.suppressedWhen ? fields[d.suppressedWhen.metric] : undefined;
      if (value === undefined && suppressor === undefined) continue;
      this.background(this.live(address, d), async (a) => {
        if (d.suppressedWhen && typeof suppressor === 'string') {
          const on = d.suppressedWhen.values.includes(suppressor);
          await this.apply(a, { type: on ? 'suppress' : 'unsuppress', at }, SYSTEM, '');
        }
        if (value !== undefined) await this.observeValue(a, value, at);
      });
    }
  }

  /** A device event: a critical one raises the event alarm, which returns at once (ack needed). */
  event(address: Address, severity: string, code: string, message: string, at: number): void {
    if (severity !== 'critical') return;
    const d = (this.byAsset.get(address.assetType) ?? []).find((x) => x.source.kind === 'event');
    if (!d) return;
    this.background(this.live(address, d), async (a) => {
      a.value = code;
      const text = `${code}${message ? `: ${message}` : ''}`;
      if (a.record?.status.active) await this.apply(a, { type: 'clear', at }, SYSTEM, '');
      await this.apply(a, { type: 'activate', at }, SYSTEM, text);
      await this.apply(a, { type: 'clear', at }, SYSTEM, '');
    });
  }

  /** Presence: offline raises (after its on-delay), online clears. */
  presence(address: Address, online: boolean, at: number): void {
    const d = (this.byAsset.get(address.assetType) ?? []).find((x) => x.source.kind === 'offline');
    if (!d) return;
    const known = this.alarms.get(alarmId(address.deviceId, d));
    if (online && !known) return; // nothing to clear: don't create an alarm for every device
    this.background(this.live(address, d), (a) => this.observeValue(a, !online, at));
  }

  private async observeValue(a: Live, value: FieldLike, at: number): Promise<void> {
    const step = observe(a.definition, a.condition, value, at);
    a.condition = step.condition;
    a.value = value;
    if (step.change) await this.apply(a, { type: step.change, at }, SYSTEM, '');
  }

  /** Delays run out and shelves expire without a sample. */
  private tickAll(): void {
    const now = Date.now();
    for (const a of this.alarms.values()) {
      const shelf = a.record?.status.shelf;
      if (shelf && shelf.until <= now)
        this.background(a, async (x) => {
          if (x.record?.status.shelf)
            await this.apply(x, { type: 'shelf_expired', at: now }, SYSTEM, 'the shelf expired');
        });
      if (a.condition.pendingSince !== undefined)
        this.background(a, async (x) => {
          const step = tick(x.definition, x.condition, now);
          x.condition = step.condition;
          if (step.change) await this.apply(x, { type: step.change, at: now }, SYSTEM, '');
        });
    }
  }

  // --- operators -------------------------------------------------------------------------------

  acknowledge(id: string, by: string, comment: string, activation?: number): Promise<AlarmView> {
    return this.act(
      id,
      (a) => {
        if (activation !== undefined && activation !== a.record?.status.activation)
          throw new OperationsError(
            'stale_acknowledgement',
            `alarm ${id} is at activation ${a.record?.status.activation ?? 0}, not ${activation}: it was raised again since; look again`,
          );
        return { type: 'acknowledge', at: Date.now(), by };
      },
      comment,
    );
  }

  shelve(id: string, by: string, reason: string, durationS: number): Promise<AlarmView> {
    const max = this.config.alarms.shelveMaxS;
    if (durationS > max)
      throw new OperationsError(
        'shelve_too_long',
        `a shelf lasts at most ${max} s (ALARM_SHELVE_MAX_S)`,
      );
    return this.act(
      id,
      () => {
        const at = Date.now();
        return { type: 'shelve', at, by, reason, until: at + durationS * 1000 };
      },
      reason,
    );
  }

  unshelve(id: string, by: string, comment: string): Promise<AlarmView> {
    return this.act(id, () => ({ type: 'unshelve', at: Date.now(), by }), comment);
  }

  removeFromService(id: string, by: string, reason: string): Promise<AlarmView> {
    return this.act(
      id,
      () => ({ type: 'remove_from_service', at: Date.now(), by, reason }),
      reason,
    );
  }

  returnToService(id: string, by: string, comment: string): Promise<AlarmView> {
    return this.act(id, () => ({ type: 'return_to_service', at: Date.now(), by }), comment);
  }

  comment(id: string, by: string, comment: string): Promise<AlarmView> {
    const a = this.known(id);
    return this.enqueue(a, async (x) => {
      await this.save(x, x.record ?? this.fresh(x), 'comment', by, comment, Date.now());
      return this.view(x);
    });
  }

  private act(id: string, event: (a: Live) => AlarmEvent, comment: string): Promise<AlarmView> {
    const a = this.known(id);
    return this.enqueue(a, async (x) => {
      const e = event(x);
      const by = 'by' in e ? e.by : SYSTEM;
      const applied = await this.apply(x, e, by, comment);
      if (!applied)
        throw new OperationsError(
          'alarm_action_not_allowed',
          `cannot ${e.type.replace(/_/g, ' ')} alarm ${id}: it is ${this.stateText(x)}`,
        );
      return this.view(x);
    });
  }

  /** Operators act on alarms that exist: a definition of the device's asset type. */
  private known(id: string): Live {
    const a = this.alarms.get(id);
    if (a) return a;
    const dot = id.indexOf('.');
    const deviceId = id.slice(0, dot);
    const tag = id.slice(dot + 1);
    const other = [...this.alarms.values()].find((x) => x.address.deviceId === deviceId);
    const d = other && this.byAsset.get(other.address.assetType)?.find((x) => x.tag === tag);
    if (!other || !d) throw new OperationsError('unknown_alarm', `no alarm ${id}`);
    return this.live(other.address, d);
  }

  private stateText(a: Live): string {
    return a.record ? stateOf(a.record.status).replace(/_/g, ' ') : 'normal';
  }

  // --- the one place alarms change -------------------------------------------------------------

  /** Applies a lifecycle event; false when the model refused it (duplicates are no change). */
  private async apply(a: Live, event: AlarmEvent, by: string, comment: string): Promise<boolean> {
    const current = a.record ?? this.fresh(a);
    const r = transition(current.status, event, a.definition.latched);
    if (!r.ok) return r.why === 'duplicate' && event.type !== 'acknowledge';
    const state = stateOf(r.status);
    const next: AlarmRecord = {
      ...current,
      status: r.status,
      state,
      condition: { active: r.status.active },
      value: a.value,
      updatedAt: event.at,
    };
    await this.save(a, next, event.type, by, comment, event.at, current.state);
    return true;
  }

  private async save(
    a: Live,
    next: AlarmRecord,
    action: string,
    by: string,
    comment: string,
    at: number,
    fromState = next.state,
  ): Promise<void> {
    const record = { ...next, version: (a.record?.version ?? 0) + 1 };
    const event: AlarmEventRecord = {
      alarmId: record.id,
      deviceId: record.deviceId,
      at,
      by,
      action,
      fromState,
      toState: record.state,
      priority: record.priority,
      comment,
      value: a.value,
    };
    if (!(await this.store.saveAlarm(record, event))) {
      // Someone else changed it (another instance): take theirs, and let the caller retry.
      const stored = (await this.store.listAlarms()).find((x) => x.id === record.id);
      a.record = stored;
      throw new OperationsError(
        'alarm_conflict',
        `alarm ${record.id} changed meanwhile; try again`,
      );
    }
    a.record = record;
    this.write(record, event);
    const view = this.view(a);
    for (const l of this.listeners) l(view);
  }

  private fresh(a: Live): AlarmRecord {
    return {
      id: alarmId(a.address.deviceId, a.definition),
      definitionId: a.definition.id,
      park: a.address.park,
      site: a.address.site,
      assetType: a.address.assetType,
      deviceId: a.address.deviceId,
      state: 'normal',
      priority: a.definition.priority,
      status: NEW_ALARM,
      condition: CONDITION_NORMAL,
      value: a.value,
      updatedAt: Date.now(),
      version: 0,
    };
  }

  private live(address: Address, definition: AlarmDefinition): Live {
    const id = alarmId(address.deviceId, definition);
    let a = this.alarms.get(id);
    if (!a) {
      a = {
        record: undefined,
        condition: CONDITION_NORMAL,
        definition,
        address: {
          park: address.park,
          site: address.site,
          assetType: address.assetType,
          deviceId: address.deviceId,
        },
        value: null,
      };
      this.alarms.set(id, a);
    }
    return a;
  }

  /** Work from the stream: its errors are logged by `enqueue`, nobody waits for it. */
  private background(a: Live, work: (a: Live) => Promise<void>): void {
    this.enqueue(a, work).catch(() => undefined);
  }

  private enqueue<T>(a: Live, work: (a: Live) => Promise<T>): Promise<T> {
    const id = alarmId(a.address.deviceId, a.definition);
    const before = this.queues.get(id) ?? Promise.resolve();
    const run = before.then(
      () => work(a),
      () => work(a),
    );
    const settled = run.catch((error: Error) => {
      if (!(error instanceof OperationsError)) this.log.error(`alarm ${id}: ${error.message}`);
    });
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return run;
  }

  private write(record: AlarmRecord, event: AlarmEventRecord): void {
    if (!this.points.enabled) return;
    this.points.write(
      MEASUREMENT.alarm,
      alarmEventPoint({
        topic: {
          park: record.park as ParkId,
          site: record.site,
          assetType: record.assetType,
          deviceId: record.deviceId,
          channel: 'event',
        },
        id: record.id,
        alarm: record.id.slice(record.deviceId.length + 1),
        priority: record.priority,
        action: event.action,
        state: event.toState,
        ts: event.at,
        by: event.by,
        comment: event.comment,
        value: event.value,
      }),
    );
  }

  // --- reading ---------------------------------------------------------------------------------

  view(a: Live): AlarmView {
    const r = a.record ?? this.fresh(a);
    const d = a.definition;
    const shelf = r.status.shelf;
    return {
      id: r.id,
      definitionId: d.id,
      name: d.name,
      park: r.park,
      site: r.site,
      assetType: r.assetType,
      deviceId: r.deviceId,
      state: r.state,
      priority: r.priority,
      active: r.status.active,
      activation: r.status.activation,
      raisedAt: r.status.raisedAt ? new Date(r.status.raisedAt).toISOString() : null,
      updatedAt: new Date(r.updatedAt).toISOString(),
      value: a.value,
      limit: d.source.kind === 'limit' ? d.source.limit : null,
      shelf: shelf ? { ...shelf, until: new Date(shelf.until).toISOString() } : null,
      outOfService: r.status.outOfService ?? null,
      consequence: d.consequence,
      response: d.response,
      acknowledgeable: canAcknowledge(r.status),
    };
  }

  /** Alarms not in `normal` (or all that were ever stored), critical first, then newest. */
  list(filter: {
    state?: string;
    priority?: string;
    deviceId?: string;
    all?: boolean;
  }): AlarmView[] {
    return [...this.alarms.values()]
      .filter((a) => a.record)
      .map((a) => this.view(a))
      .filter(
        (v) =>
          (filter.all || filter.state || v.state !== 'normal') &&
          (!filter.state || v.state === filter.state) &&
          (!filter.priority || v.priority === filter.priority) &&
          (!filter.deviceId || v.deviceId === filter.deviceId),
      )
      .sort(
        (x, y) =>
          priorityRank(x.priority) - priorityRank(y.priority) ||
          (y.raisedAt ?? '').localeCompare(x.raisedAt ?? '') ||
          x.id.localeCompare(y.id),
      );
  }

  async get(id: string): Promise<AlarmView & { history: AlarmHistoryView[] }> {
    const a = this.known(id);
    const history = a.record ? await this.store.alarmHistory(id, 100) : [];
    return { ...this.view(a), history: history.map(historyView) };
  }

  async deviceHistory(
    deviceId: string,
    limit: number,
  ): Promise<(AlarmHistoryView & { alarmId: string })[]> {
    const rows = await this.store.deviceAlarmEvents(deviceId, limit);
    return rows.map((r) => ({ alarmId: r.alarmId, ...historyView(r) }));
  }

  async kpis(windowH: number): Promise<AlarmKpis> {
    const now = Date.now();
    const windowMs = windowH * 3600_000;
    const activations = await this.store.alarmActivations(now - windowMs);
    const name = (id: string) => {
      const a = this.alarms.get(id);
      return a ? `${a.address.deviceId}: ${a.definition.name}` : id;
    };
    return computeKpis(
      activations.map((e) => ({
        alarmId: e.alarmId,
        name: name(e.alarmId),
        priority: e.priority,
        at: e.at,
      })),
      [...this.alarms.values()]
        .filter((a) => a.record)
        .map((a) => ({
          alarmId: a.record!.id,
          name: name(a.record!.id),
          state: a.record!.state,
          active: a.record!.status.active,
          ...(a.record!.status.raisedAt !== undefined
            ? { raisedAt: a.record!.status.raisedAt }
            : {}),
        })),
      { now, windowMs, operators: this.config.alarms.operatorPositions },
    );
  }
}

function historyView(r: AlarmEventRecord): AlarmHistoryView {
  return {
    at: new Date(r.at).toISOString(),
    by: r.by,
    action: r.action,
    fromState: r.fromState,
    toState: r.toState,
    comment: r.comment,
    value: r.value,
  };
}
