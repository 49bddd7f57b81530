import { Module } from '@nestjs/common';
import { CommandsModule } from '../commands/commands.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [CommandsModule], controllers: [HealthController] })
export class HealthModule {}
