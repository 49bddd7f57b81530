import { describe, expect, it, vi } from 'vitest';
import { loadOperationsConfig } from '../config/operations-config.js';
import { StreamTickets } from './stream-tickets.service.js';

const caller = { username: 'olga', role: 'operator' } as const;

describe('StreamTickets', () => {
  const tickets = () =>
    new StreamTickets(loadOperationsConfig({ ALARM_STREAM_TICKET_TTL_S: '60' }));

  it('redeems a ticket once, for the caller it was issued to', () => {
    const t = tickets();
    const { ticket } = t.issue(caller);
    expect(t.redeem(ticket)).toEqual(caller);
    expect(() => t.redeem(ticket)).toThrow(/missing, unknown, used or has expired/);
  });

  it('refuses an unknown, a missing and an expired ticket', () => {
    vi.useFakeTimers();
    try {
      const t = tickets();
      const { ticket, expiresAt } = t.issue(caller);
      expect(expiresAt - Date.now()).toBe(60_000);
      expect(() => t.redeem('forged')).toThrow(/stream ticket/);
      expect(() => t.redeem(undefined)).toThrow(/stream ticket/);
      vi.advanceTimersByTime(60_000);
      expect(() => t.redeem(ticket)).toThrow(/stream ticket/);
    } finally {
      vi.useRealTimers();
    }
  });
});
