import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import type { Caller } from '../accounts/accounts.service.js';
import { Requires, callerOf } from '../accounts/auth.guard.js';
import {
  DeviceCommandRequest,
  DeviceIdParam,
  SelectionCommandRequest,
  parseRequest,
} from '../api/schemas.js';
import { z } from 'zod';
import { CommandsService } from './commands.service.js';

const Limit = z.coerce.number().int().min(1).max(500).default(50);

/** Thin: parse at the edge, then the service. */
@Controller('api/v1')
export class CommandsController {
  constructor(private readonly commands: CommandsService) {}

  @Post('devices/:deviceId/commands')
  @Requires('operator')
  @HttpCode(202)
  send(
    @Req() req: { caller?: Caller },
    @Param('deviceId') deviceId: string,
    @Body() body: unknown,
  ) {
    const request = parseRequest(DeviceCommandRequest, body);
    return this.commands.sendToDevice(
      callerOf(req),
      parseRequest(DeviceIdParam, deviceId),
      request,
    );
  }

  @Post('commands')
  @Requires('operator')
  @HttpCode(202)
  async sendToSelection(@Req() req: { caller?: Caller }, @Body() body: unknown) {
    const { selector, ...request } = parseRequest(SelectionCommandRequest, body);
    return { commands: await this.commands.sendToSelection(callerOf(req), selector, request) };
  }

  @Get('commands/:id')
  @Requires('viewer')
  get(@Param('id') id: string) {
    return this.commands.get(id);
  }

  @Post('commands/:id/cancel')
  @Requires('operator')
  @HttpCode(200)
  cancel(@Req() req: { caller?: Caller }, @Param('id') id: string) {
    return this.commands.cancel(callerOf(req), id);
  }

  @Get('devices/:deviceId/commands')
  @Requires('viewer')
  async list(@Param('deviceId') deviceId: string, @Query('limit') limit: unknown) {
    return {
      commands: await this.commands.listForDevice(
        parseRequest(DeviceIdParam, deviceId),
        parseRequest(Limit, limit),
      ),
    };
  }
}
