import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { hashSecret, verifySecret } from '@parkpulse/access';
import type { UserRole } from '@parkpulse/commands';
import { OperationsError } from '../api/errors.js';
import { OPERATIONS_CONFIG, type OperationsConfig } from '../config/operations-config.js';
import type { CommandStore, UserRecord } from '../store/command-store.js';
import { COMMAND_STORE } from '../store/store.module.js';

export interface Caller {
  readonly username: string;
  readonly role: UserRole;
}

/** A hash to compare against when the user does not exist, so that a wrong name costs as long as a wrong password. */
const DUMMY_HASH = hashSecret(randomBytes(16).toString('hex'));

/**
 * Per-person accounts: passwords hashed with scrypt (the registry's `scrypt$N$r$p$salt$hash`),
 * bearer tokens of 32 random bytes with an expiry, stored only as their sha256.
 */
@Injectable()
export class AccountsService implements OnModuleInit {
  private readonly log = new Logger('Accounts');

  constructor(
    @Inject(OPERATIONS_CONFIG) private readonly config: OperationsConfig,
    @Inject(COMMAND_STORE) private readonly store: CommandStore,
  ) {}

  async onModuleInit(): Promise<void> {
    const admin = this.config.admin;
    if (!admin) return;
    const created = await this.store.createUser({
      username: admin.username,
      passwordHash: hashSecret(admin.password),
      role: 'admin',
      createdAt: Date.now(),
    });
    if (created) this.log.log(`created the admin account "${admin.username}" (ADMIN_PASSWORD)`);
  }

  async createUser(username: string, password: string, role: UserRole): Promise<UserRecord> {
    const user = { username, passwordHash: hashSecret(password), role, createdAt: Date.now() };
    if (!(await this.store.createUser(user)))
      throw new OperationsError('user_exists', `an account "${username}" exists already`);
    return user;
  }

  /** `ttlS` may shorten the token's life below TOKEN_TTL_S, never lengthen it. */
  async issueToken(
    username: string,
    password: string,
    ttlS?: number,
  ): Promise<{ token: string; expiresAt: number; user: UserRecord }> {
    const user = await this.store.getUser(username);
    const good = verifySecret(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !good) throw new OperationsError('bad_credentials', 'wrong user name or password');
    const token = randomBytes(32).toString('base64url');
    const expiresAt = Date.now() + Math.min(ttlS ?? Infinity, this.config.tokenTtlS) * 1000;
    await this.store.insertToken({ tokenHash: sha256(token), username, expiresAt });
    await this.store.deleteExpiredTokens(Date.now());
    return { token, expiresAt, user };
  }

  /** The caller a bearer token stands for; 401 when it is missing, unknown or expired. */
  async authenticate(authorization: string | undefined): Promise<Caller> {
    const match = /^Bearer ([A-Za-z0-9_-]{20,100})$/.exec(authorization ?? '');
    if (!match)
      throw new OperationsError(
        'unauthenticated',
        'an Authorization: Bearer <token> header is required',
      );
    const token = await this.store.getToken(sha256(match[1]!));
    if (!token || token.expiresAt <= Date.now())
      throw new OperationsError('unauthenticated', 'the token is unknown or has expired');
    const user = await this.store.getUser(token.username);
    if (!user) throw new OperationsError('unauthenticated', 'the account no longer exists');
    return { username: user.username, role: user.role };
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
