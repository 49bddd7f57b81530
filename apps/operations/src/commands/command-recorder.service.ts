import { Injectable } from '@nestjs/common';
import { MEASUREMENT, commandPoint } from '@parkpulse/influx';
import type { ParkId } from '@parkpulse/telemetry';
import { PointsWriter } from '../points/points-writer.service.js';
import type { CommandRecord } from '../store/command-store.js';

/**
 * Every state change also as a `device_command` point (source `operations`), so dashboards show
 * deliveries and results beside the telemetry (best effort: the database is the record).
 */
@Injectable()
export class CommandRecorder {
  constructor(private readonly points: PointsWriter) {}

  record(command: CommandRecord, state: string, at: number, by: string, detail: string): void {
    if (!this.points.enabled) return;
    this.points.write(
      MEASUREMENT.command,
      commandPoint({
        topic: {
          park: command.park as ParkId,
          site: command.site,
          assetType: command.assetType,
          deviceId: command.deviceId,
          channel: 'cmd',
        },
        id: command.id,
        name: command.name,
        status: state,
        source: 'operations',
        ts: at,
        by,
        ...(detail ? { detail } : {}),
      }),
    );
  }
}
