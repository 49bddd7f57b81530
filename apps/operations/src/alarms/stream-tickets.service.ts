import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { OperationsError } from '../api/errors.js';
import type { Caller } from '../accounts/accounts.service.js';
import { OPERATIONS_CONFIG, type OperationsConfig } from '../config/operations-config.js';

/**
 * Tickets for the live feed: a browser's EventSource cannot send an Authorization header, so
 * the console asks for a ticket with its bearer token and opens `/api/v1/alarms/stream?ticket=…`.
 * A ticket is good only for the feed, once, for ALARM_STREAM_TICKET_TTL_S (kept in memory, as
 * sha256), so a URL that leaks into a log is worth nothing; an open feed outlives its ticket.
 */
@Injectable()
export class StreamTickets {
  private readonly tickets = new Map<string, { caller: Caller; expiresAt: number }>();

  constructor(@Inject(OPERATIONS_CONFIG) private readonly config: OperationsConfig) {}

  issue(caller: Caller): { ticket: string; expiresAt: number } {
    const now = Date.now();
    for (const [k, v] of this.tickets) if (v.expiresAt <= now) this.tickets.delete(k);
    const ticket = randomBytes(24).toString('base64url');
    const expiresAt = now + this.config.alarms.streamTicketTtlS * 1000;
    this.tickets.set(hash(ticket), { caller, expiresAt });
    return { ticket, expiresAt };
  }

  redeem(ticket: unknown): Caller {
    const key = typeof ticket === 'string' ? hash(ticket) : undefined;
    const t = key === undefined ? undefined : this.tickets.get(key);
    if (key !== undefined) this.tickets.delete(key);
    if (!t || t.expiresAt <= Date.now())
      throw new OperationsError(
        'unauthenticated',
        'the stream ticket is missing, unknown, used or has expired (POST /api/v1/alarms/stream-tickets)',
      );
    return t.caller;
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
