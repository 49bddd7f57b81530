import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module.js';
import { PointsModule } from '../points/points.module.js';
import { AlarmEngine } from './alarm-engine.service.js';
import { AlarmFeed } from './alarm-feed.service.js';
import { AlarmsController } from './alarms.controller.js';
import { DeviceState } from './device-state.service.js';
import { StreamTickets } from './stream-tickets.service.js';

/** Alarms (over @parkpulse/alarms): the live stream in, the lifecycle stored, the API and feed out. */
@Module({
  imports: [DevicesModule, PointsModule],
  controllers: [AlarmsController],
  providers: [AlarmEngine, AlarmFeed, DeviceState, StreamTickets],
  exports: [AlarmEngine, AlarmFeed],
})
export class AlarmsModule {}
