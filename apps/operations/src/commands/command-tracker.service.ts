import { Inject, Injectable } from '@nestjs/common';
import { transition, type CommandEvent } from '@parkpulse/commands';
import type { CommandParams } from '@parkpulse/telemetry';
import type { CommandRecord, CommandStore } from '../store/command-store.js';
import { COMMAND_STORE } from '../store/store.module.js';
import { CommandRecorder } from './command-recorder.service.js';
import { OperationsMetrics } from '../metrics/operations-metrics.service.js';

export type Applied =
  | { readonly ok: true; readonly command: CommandRecord }
  | { readonly ok: false; readonly why: 'duplicate' | 'not_allowed' | 'raced' };

/**
 * The one place a command changes state: the state machine decides, the store records it as a
 * compare-and-set with its history row, then InfluxDB and the metrics hear of it.
 */
@Injectable()
export class CommandTracker {
  constructor(
    @Inject(COMMAND_STORE) private readonly store: CommandStore,
    private readonly recorder: CommandRecorder,
    private readonly metrics: OperationsMetrics,
  ) {}

  async apply(
    command: CommandRecord,
    event: CommandEvent,
    by: string,
    detail: string,
    extra: { result?: CommandParams; reason?: string; published?: boolean; at?: number } = {},
  ): Promise<Applied> {
    const t = transition(command.state, event);
    if (!t.ok) return t;
    const at = extra.at ?? Date.now();
    const changed = await this.store.changeState(command.id, {
      from: command.state,
      to: t.next,
      at,
      by,
      detail,
      ...(extra.result ? { result: extra.result } : {}),
      ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
      ...(extra.published ? { published: true } : {}),
    });
    // Someone else (a result racing the dispatcher, another instance) changed it first.
    if (!changed) return { ok: false, why: 'raced' };
    this.metrics.transitions.inc({ state: t.next });
    const next: CommandRecord = {
      ...command,
      state: t.next,
      updatedAt: at,
      attempts: command.attempts + (extra.published ? 1 : 0),
      ...(extra.result ? { result: extra.result } : {}),
      ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
    };
    this.recorder.record(next, t.next, at, by, detail);
    return { ok: true, command: next };
  }

  /** Re-reads the command and applies the event to its current state (after a race). */
  async applyFresh(
    id: string,
    event: CommandEvent,
    by: string,
    detail: string,
    extra: Parameters<CommandTracker['apply']>[4] = {},
  ): Promise<Applied> {
    for (let i = 0; i < 3; i++) {
      const current = await this.store.getCommand(id);
      if (!current) return { ok: false, why: 'not_allowed' };
      const r = await this.apply(current, event, by, detail, extra);
      if (r.ok || r.why !== 'raced') return r;
    }
    return { ok: false, why: 'raced' };
  }
}
