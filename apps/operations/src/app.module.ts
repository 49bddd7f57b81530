import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountsModule } from './accounts/accounts.module.js';
import { AlarmsModule } from './alarms/alarms.module.js';
import { OperationsErrorFilter } from './api/errors.js';
import { CommandsModule } from './commands/commands.module.js';
import { ConfigModule } from './config/config.module.js';
import type { OperationsConfig } from './config/operations-config.js';
import { DevicesModule } from './devices/devices.module.js';
import { HealthModule } from './health/health.module.js';
import { StoreModule } from './store/store.module.js';

@Module({})
export class AppModule {
  static forRoot(config: OperationsConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        StoreModule,
        AccountsModule,
        DevicesModule,
        CommandsModule,
        AlarmsModule,
        HealthModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: OperationsErrorFilter }],
    };
  }
}
