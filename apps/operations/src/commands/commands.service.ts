import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CommandView } from '@parkpulse/commands';
import { checkCommand, type CommandParams } from '@parkpulse/telemetry';
import type { Caller } from '../accounts/accounts.service.js';
import { OperationsError } from '../api/errors.js';
import { OPERATIONS_CONFIG, type OperationsConfig } from '../config/operations-config.js';
import { DeviceDirectory, type DeviceEntry } from '../devices/device-directory.service.js';
import type { CommandRecord, CommandStore } from '../store/command-store.js';
import { COMMAND_STORE } from '../store/store.module.js';
import { CommandDispatcher } from './command-dispatcher.service.js';
import { CommandTracker } from './command-tracker.service.js';
import { OperationsMetrics } from '../metrics/operations-metrics.service.js';

export interface CommandRequest {
  readonly name: string;
  readonly params?: CommandParams | undefined;
  readonly ttlS?: number | undefined;
}

/** What operators ask for: send (one device or a selection), look, cancel. No HTTP in here. */
@Injectable()
export class CommandsService {
  constructor(
    @Inject(OPERATIONS_CONFIG) private readonly config: OperationsConfig,
    @Inject(COMMAND_STORE) private readonly store: CommandStore,
    private readonly directory: DeviceDirectory,
    private readonly tracker: CommandTracker,
    private readonly dispatcher: CommandDispatcher,
    private readonly metrics: OperationsMetrics,
  ) {}

  async sendToDevice(
    caller: Caller,
    deviceId: string,
    request: CommandRequest,
  ): Promise<CommandView> {
    const device = this.directory.get(deviceId);
    if (!device)
      throw new OperationsError(
        'unknown_device',
        `no device "${deviceId}" has announced itself (a device is known once it published its status)`,
      );
    const [view] = await this.create(caller, [device], request);
    return view!;
  }

  async sendToSelection(
    caller: Caller,
    selector: { park: string; site?: string | undefined; assetType: string },
    request: CommandRequest,
  ): Promise<CommandView[]> {
    const devices = this.directory.select(selector);
    const where = `${selector.assetType} in ${selector.park}${selector.site ? `/${selector.site}` : ''}`;
    if (devices.length === 0) throw new OperationsError('no_devices', `no known ${where}`);
    if (devices.length > this.config.commands.maxSelection)
      throw new OperationsError(
        'selection_too_large',
        `${devices.length} devices (${where}); at most ${this.config.commands.maxSelection} per request`,
      );
    return this.create(caller, devices, request);
  }

  private async create(
    caller: Caller,
    devices: readonly DeviceEntry[],
    request: CommandRequest,
  ): Promise<CommandView[]> {
    const ttlS = request.ttlS ?? this.config.commands.defaultTtlS;
    if (ttlS > this.config.commands.maxTtlS)
      throw new OperationsError(
        'invalid_request',
        `ttlS: at most ${this.config.commands.maxTtlS} s (COMMAND_MAX_TTL_S)`,
      );
    const now = Date.now();
    const records: CommandRecord[] = [];
    for (const d of devices) {
      const check = checkCommand(d.assetType, request.name, request.params ?? {});
      if (!check.ok) throw new OperationsError(check.code, check.detail);
      records.push({
        id: randomUUID(),
        park: d.park,
        site: d.site,
        assetType: d.assetType,
        deviceId: d.deviceId,
        name: request.name,
        params: check.params,
        state: 'queued',
        createdBy: caller.username,
        createdAt: now,
        expiresAt: now + ttlS * 1000,
        updatedAt: now,
        result: {},
        reason: '',
        attempts: 0,
      });
    }
    await this.store.insertCommands(
      records,
      devices.length > 1 ? `asked for ${devices.length} devices` : 'asked',
    );
    this.metrics.created.inc(records.length);
    this.metrics.transitions.inc({ state: 'queued' }, records.length);
    this.dispatcher.kick();
    return Promise.all(records.map((r) => this.view(r)));
  }

  async get(id: string): Promise<CommandView> {
    const c = await this.store.getCommand(id);
    if (!c) throw new OperationsError('unknown_command_id', `no command "${id}"`);
    return this.view(c);
  }

  async listForDevice(deviceId: string, limit: number): Promise<CommandView[]> {
    const commands = await this.store.listByDevice(deviceId, limit);
    if (commands.length === 0 && !this.directory.get(deviceId))
      throw new OperationsError('unknown_device', `no device "${deviceId}"`);
    return Promise.all(commands.map((c) => this.view(c)));
  }

  async cancel(caller: Caller, id: string): Promise<CommandView> {
    const c = await this.store.getCommand(id);
    if (!c) throw new OperationsError('unknown_command_id', `no command "${id}"`);
    const r = await this.tracker.applyFresh(
      id,
      'cancel',
      caller.username,
      'cancelled before delivery',
    );
    if (!r.ok) {
      const now = (await this.store.getCommand(id))!;
      throw new OperationsError(
        'not_cancellable',
        `the command is ${now.state}: only a queued command (not yet sent to the device) can be cancelled`,
      );
    }
    return this.view(r.command);
  }

  private async view(c: CommandRecord): Promise<CommandView> {
    const history = await this.store.history(c.id);
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      id: c.id,
      park: c.park,
      site: c.site,
      assetType: c.assetType,
      deviceId: c.deviceId,
      name: c.name,
      params: c.params,
      state: c.state,
      createdBy: c.createdBy,
      createdAt: iso(c.createdAt),
      expiresAt: iso(c.expiresAt),
      updatedAt: iso(c.updatedAt),
      result: c.result,
      reason: c.reason,
      history: history.map((h) => ({ state: h.state, at: iso(h.at), by: h.by, detail: h.detail })),
    };
  }
}
