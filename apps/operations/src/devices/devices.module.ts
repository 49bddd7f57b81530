import { Module } from '@nestjs/common';
import { DeviceDirectory } from './device-directory.service.js';
import { DevicesController } from './devices.controller.js';

@Module({
  controllers: [DevicesController],
  providers: [DeviceDirectory],
  exports: [DeviceDirectory],
})
export class DevicesModule {}
