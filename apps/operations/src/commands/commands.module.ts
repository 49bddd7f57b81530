import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module.js';
import { MqttModule } from '../mqtt/mqtt.module.js';
import { CommandDispatcher } from './command-dispatcher.service.js';
import { CommandRecorder } from './command-recorder.service.js';
import { CommandTracker } from './command-tracker.service.js';
import { CommandsController } from './commands.controller.js';
import { CommandsService } from './commands.service.js';
import { InboundRouter } from './inbound-router.service.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { PointsModule } from '../points/points.module.js';

/** Commands: the API, their life (tracker, dispatcher), and what devices and the broker answer. */
@Module({
  imports: [DevicesModule, MqttModule, MetricsModule, PointsModule],
  controllers: [CommandsController],
  providers: [CommandsService, CommandTracker, CommandDispatcher, CommandRecorder, InboundRouter],
  exports: [MqttModule],
})
export class CommandsModule {}
