import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { roleAllows, type UserRole } from '@parkpulse/commands';
import { OperationsError } from '../api/errors.js';
import { AccountsService, type Caller } from './accounts.service.js';

/** The metadata key of {@link Requires} (read by the guard and by the OpenAPI drift check). */
export const ROLE_KEY = 'parkpulse:role';

/** The least role a route needs; routes without it are public (health, metrics, log-in). */
export const Requires = (role: UserRole) => SetMetadata(ROLE_KEY, role);

interface AuthRequest {
  headers: Record<string, string | string[] | undefined>;
  caller?: Caller;
}

/** Bearer token → caller, then the route's role: 401 without a valid token, 403 below the role. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly accounts: AccountsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const needed = this.reflector.getAllAndOverride<UserRole | undefined>(ROLE_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!needed) return true;
    const req = context.switchToHttp().getRequest<AuthRequest>();
    const header = req.headers['authorization'];
    const caller = await this.accounts.authenticate(Array.isArray(header) ? header[0] : header);
    if (!roleAllows(caller.role, needed))
      throw new OperationsError(
        'forbidden',
        `this needs the ${needed} role; "${caller.username}" is ${caller.role}`,
      );
    req.caller = caller;
    return true;
  }
}

/** The authenticated caller of a guarded route. */
export function callerOf(req: { caller?: Caller }): Caller {
  if (!req.caller) throw new OperationsError('unauthenticated', 'not authenticated');
  return req.caller;
}
