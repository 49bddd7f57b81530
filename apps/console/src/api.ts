/** The operations API as the console uses it (same origin; a bearer token per session). */

export type Role = 'viewer' | 'operator' | 'admin';
export type Priority = 'critical' | 'high' | 'medium' | 'low';
export const PRIORITIES: readonly Priority[] = ['critical', 'high', 'medium', 'low'];

export interface Alarm {
  id: string;
  definitionId: string;
  name: string;
  park: string;
  site: string;
  assetType: string;
  deviceId: string;
  state: string;
  priority: Priority;
  active: boolean;
  activation: number;
  raisedAt: string | null;
  updatedAt: string;
  value: number | boolean | string | null;
  limit: number | null;
  shelf: { until: string; by: string; reason: string } | null;
  outOfService: { by: string; reason: string } | null;
  consequence: string;
  response: string;
  acknowledgeable: boolean;
}

export interface HistoryEntry {
  at: string;
  by: string;
  action: string;
  fromState: string;
  toState: string;
  comment: string;
  value: number | boolean | string | null;
  alarmId?: string;
}

export interface Session {
  token: string;
  username: string;
  role: Role;
  expiresAt: string;
}

const KEY = 'parkpulse.session';

export function loadSession(): Session | undefined {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return undefined;
  const s = JSON.parse(raw) as Session;
  return Date.parse(s.expiresAt) > Date.now() ? s : undefined;
}

export function saveSession(s: Session | undefined): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(
  session: Session | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers: {
      ...(session ? { authorization: `Bearer ${session.token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const json = (text ? JSON.parse(text) : undefined) as unknown;
  if (!res.ok) {
    const e = (json ?? {}) as { error?: string; message?: string };
    throw new ApiError(res.status, e.error ?? 'error', e.message ?? res.statusText);
  }
  return json as T;
}

export function mayAct(role: Role): boolean {
  return role === 'operator' || role === 'admin';
}

/** "90s", "15m", "2h", "1h30m" → seconds; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t) * 60;
  const m = /^(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$/.exec(t);
  if (!m || t === '') return undefined;
  const s = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  return s > 0 ? s : undefined;
}

export function rank(p: Priority): number {
  return PRIORITIES.indexOf(p);
}

export function sortAlarms(list: Alarm[]): Alarm[] {
  return [...list].sort(
    (a, b) =>
      rank(a.priority) - rank(b.priority) ||
      (b.raisedAt ?? '').localeCompare(a.raisedAt ?? '') ||
      a.id.localeCompare(b.id),
  );
}

export function time(iso: string | null): string {
  return iso ? new Date(iso).toLocaleTimeString() : '—';
}
