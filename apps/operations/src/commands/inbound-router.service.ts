import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { resultEvent } from '@parkpulse/commands';
import {
  COMMAND_DELIVERIES_TOPIC_ROOT,
  DEFAULT_LIMITS,
  decodeCommandResult,
  decodeStatus,
  parseTopic,
  type DecodeContext,
} from '@parkpulse/telemetry';
import { DeviceDirectory } from '../devices/device-directory.service.js';
import { MqttLinkService } from '../mqtt/mqtt-link.service.js';
import type { CommandStore } from '../store/command-store.js';
import { COMMAND_STORE } from '../store/store.module.js';
import { CommandTracker } from './command-tracker.service.js';
import { OperationsMetrics } from '../metrics/operations-metrics.service.js';

/**
 * What arrives over MQTT: statuses (presence), the devices' `cmd_result`s and the broker's
 * delivery notices. A result is taken only from the device the command was sent to, for a
 * command that is still waiting for it; anything else is refused and counted
 * (`parkpulse_operations_results_refused_total{kind,reason}`), never applied.
 */
@Injectable()
export class InboundRouter implements OnModuleInit {
  constructor(
    @Inject(COMMAND_STORE) private readonly store: CommandStore,
    private readonly mqtt: MqttLinkService,
    private readonly directory: DeviceDirectory,
    private readonly tracker: CommandTracker,
    private readonly metrics: OperationsMetrics,
  ) {}

  onModuleInit(): void {
    this.mqtt.onMessage((topic, payload) => this.handle(topic, payload));
  }

  async handle(topicText: string, payload: Buffer): Promise<void> {
    if (topicText.startsWith(`${COMMAND_DELIVERIES_TOPIC_ROOT}/`)) return this.delivery(payload);
    const topic = parseTopic(topicText);
    if (!topic.ok) return;
    const ctx: DecodeContext = { receivedAt: Date.now(), limits: DEFAULT_LIMITS };
    if (topic.value.channel === 'status') {
      const status = decodeStatus(topic.value, payload, ctx);
      if (status.ok) this.directory.status(topic.value, status.value.online, ctx.receivedAt);
      return;
    }
    if (topic.value.channel !== 'cmd_result') return;
    const decoded = decodeCommandResult(topic.value, payload, ctx);
    if (!decoded.ok) return this.refuse('result', 'invalid');
    const r = decoded.value;
    const command = await this.store.getCommand(r.id);
    if (!command) return this.refuse('result', 'unknown_command');
    const t = topic.value;
    if (
      command.deviceId !== t.deviceId ||
      command.park !== t.park ||
      command.site !== t.site ||
      command.assetType !== t.assetType
    )
      return this.refuse('result', 'wrong_device');
    // An answer proves the delivery: a device may answer before its PUBACK reaches the broker
    // (or the broker's notice reaches us). Record `delivered` first so every history has it;
    // the late notice is then a duplicate.
    if (command.state === 'sent')
      await this.tracker.applyFresh(
        r.id,
        'deliver',
        `device:${t.deviceId}`,
        'the device answered before its delivery acknowledgement arrived',
      );
    const detail = [r.reason, r.message].filter((s) => s !== '').join(': ');
    const applied = await this.tracker.applyFresh(
      r.id,
      resultEvent(r.status),
      `device:${t.deviceId}`,
      detail,
      r.status === 'accepted' ? {} : { result: r.result, reason: r.reason },
    );
    if (applied.ok) return;
    if (applied.why === 'duplicate') this.metrics.duplicates.inc();
    else this.refuse('result', 'not_pending');
  }

  private async delivery(payload: Buffer): Promise<void> {
    let notice: { id?: unknown; deviceId?: unknown };
    try {
      notice = JSON.parse(payload.toString('utf8')) as typeof notice;
    } catch {
      return this.refuse('delivery', 'invalid');
    }
    if (typeof notice.id !== 'string') return this.refuse('delivery', 'invalid');
    const command = await this.store.getCommand(notice.id);
    if (!command) return this.refuse('delivery', 'unknown_command');
    if (command.deviceId !== notice.deviceId) return this.refuse('delivery', 'wrong_device');
    const applied = await this.tracker.applyFresh(
      command.id,
      'deliver',
      'broker',
      'the device acknowledged the delivery (PUBACK)',
    );
    if (!applied.ok && applied.why === 'duplicate') this.metrics.duplicates.inc();
    // A notice after the device's own answer changes nothing and is no refusal.
  }

  private refuse(kind: 'result' | 'delivery', reason: string): void {
    this.metrics.refused.inc({ kind, reason });
  }
}
