import { Injectable } from '@nestjs/common';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's figures on /metrics. Refusals are counted here, never logged one by one. */
@Injectable()
export class OperationsMetrics {
  readonly registry = new Registry();
  readonly created = new Counter({
    name: 'parkpulse_operations_commands_created_total',
    help: 'Commands accepted by the API (one per device of a selection)',
    registers: [this.registry],
  });
  readonly transitions = new Counter({
    name: 'parkpulse_operations_command_transitions_total',
    help: 'Recorded state changes, by the state entered',
    labelNames: ['state'],
    registers: [this.registry],
  });
  readonly published = new Counter({
    name: 'parkpulse_operations_commands_published_total',
    help: 'Commands published to the broker (a redelivery counts again)',
    registers: [this.registry],
  });
  readonly publishFailed = new Counter({
    name: 'parkpulse_operations_publish_failed_total',
    help: 'Publications that got no PUBACK from the broker (the command is queued again)',
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'parkpulse_operations_results_refused_total',
    help: 'Device results and delivery notices refused: unknown_command, wrong_device, not_pending, invalid',
    labelNames: ['kind', 'reason'],
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'parkpulse_operations_duplicates_total',
    help: 'Repeated results or notices that changed nothing',
    registers: [this.registry],
  });
  readonly influxFailed = new Counter({
    name: 'parkpulse_operations_influx_write_failed_total',
    help: 'device_command and alarm_event points InfluxDB did not take, by measurement (the database record is unaffected)',
    labelNames: ['measurement'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'parkpulse_operations_' });
  }
}
