import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { NewUser, parseRequest, TokenRequest } from '../api/schemas.js';
import { AccountsService, type Caller } from './accounts.service.js';
import { Requires, callerOf } from './auth.guard.js';

@Controller('api/v1')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('auth/tokens')
  @HttpCode(201)
  async token(@Body() body: unknown) {
    const { username, password, ttlS } = parseRequest(TokenRequest, body);
    const t = await this.accounts.issueToken(username, password, ttlS);
    return {
      token: t.token,
      expiresAt: new Date(t.expiresAt).toISOString(),
      username: t.user.username,
      role: t.user.role,
    };
  }

  @Post('users')
  @Requires('admin')
  @HttpCode(201)
  async createUser(@Req() req: { caller?: Caller }, @Body() body: unknown) {
    callerOf(req);
    const { username, password, role } = parseRequest(NewUser, body);
    const user = await this.accounts.createUser(username, password, role);
    return {
      username: user.username,
      role: user.role,
      createdAt: new Date(user.createdAt).toISOString(),
    };
  }
}
