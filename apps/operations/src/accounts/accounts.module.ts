import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccountsController } from './accounts.controller.js';
import { AccountsService } from './accounts.service.js';
import { AuthGuard } from './auth.guard.js';

/** Accounts, tokens and the guard every route passes. */
@Module({
  controllers: [AccountsController],
  providers: [AccountsService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AccountsService],
})
export class AccountsModule {}
