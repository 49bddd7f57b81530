import { Controller, Get, Query } from '@nestjs/common';
import { ASSET_COMMANDS } from '@parkpulse/telemetry';
import { Requires } from '../accounts/auth.guard.js';
import { DeviceDirectory } from './device-directory.service.js';

@Controller('api/v1')
export class DevicesController {
  constructor(private readonly directory: DeviceDirectory) {}

  @Get('devices')
  @Requires('viewer')
  list(
    @Query('park') park?: string,
    @Query('site') site?: string,
    @Query('assetType') assetType?: string,
  ) {
    return {
      devices: this.directory
        .select({ park, site, assetType })
        .map((d) => ({ ...d, since: new Date(d.since).toISOString() })),
    };
  }

  @Get('catalogue/commands')
  @Requires('viewer')
  catalogue() {
    return { assetTypes: ASSET_COMMANDS };
  }
}
