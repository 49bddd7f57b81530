import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, mayAct, parseDuration, sortAlarms, time, type Alarm, type Session } from './api.js';

const MASKED = new Set(['shelved', 'suppressed', 'out_of_service']);

/**
 * The live alarm list: the feed (Server-Sent Events, with a short-lived ticket) is opened first,
 * then the list is fetched, so that no change falls between the two.
 */
function useAlarms(session: Session): { alarms: Alarm[]; live: boolean } {
  const [byId, setById] = useState<Map<string, Alarm>>(new Map());
  const [live, setLive] = useState(false);
  useEffect(() => {
    let source: EventSource | undefined;
    let stopped = false;
    const pending: Alarm[] = [];
    let loaded = false;
    const put = (a: Alarm) =>
      setById((m) => {
        const next = new Map(m);
        if (a.state === 'normal') next.delete(a.id);
        else next.set(a.id, a);
        return next;
      });
    const connect = async () => {
      const { ticket } = await api<{ ticket: string }>(session, 'POST', '/alarms/stream-tickets');
      if (stopped) return;
      source = new EventSource(`/api/v1/alarms/stream?ticket=${encodeURIComponent(ticket)}`);
      source.addEventListener('open', () => setLive(true));
      source.addEventListener('alarm', (e) => {
        const a = JSON.parse((e as MessageEvent<string>).data) as Alarm;
        if (loaded) put(a);
        else pending.push(a);
      });
      source.addEventListener('error', () => {
        // The ticket may have expired: a new one, a new connection.
        setLive(false);
        source?.close();
        if (!stopped) setTimeout(() => void connect().catch(() => undefined), 2000);
      });
      const { alarms } = await api<{ alarms: Alarm[] }>(session, 'GET', '/alarms');
      setById(new Map(alarms.map((a) => [a.id, a])));
      loaded = true;
      for (const a of pending.splice(0)) put(a);
    };
    void connect().catch(() => undefined);
    return () => {
      stopped = true;
      source?.close();
    };
  }, [session.token]);
  const alarms = useMemo(() => sortAlarms([...byId.values()]), [byId]);
  return { alarms, live };
}

type Action = { kind: 'ack' | 'shelve' | 'comment' | 'unshelve'; alarm: Alarm };

function ActionForm({
  session,
  action,
  shelveMaxS,
  done,
}: {
  session: Session;
  action: Action;
  shelveMaxS: number;
  done: () => void;
}) {
  const [comment, setComment] = useState('');
  const [duration, setDuration] = useState('1h');
  const [error, setError] = useState('');
  const a = action.alarm;
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      const path = `/alarms/${encodeURIComponent(a.id)}`;
      if (action.kind === 'ack')
        await api(session, 'POST', `${path}/acknowledge`, { comment, activation: a.activation });
      else if (action.kind === 'comment')
        await api(session, 'POST', `${path}/comments`, { comment });
      else if (action.kind === 'unshelve')
        await api(session, 'POST', `${path}/unshelve`, { comment });
      else {
        const durationS = parseDuration(duration);
        if (!durationS) return setError('duration: e.g. 30s, 15m, 2h');
        if (durationS > shelveMaxS) return setError(`a shelf lasts at most ${shelveMaxS / 3600} h`);
        await api(session, 'POST', `${path}/shelve`, { reason: comment, durationS });
      }
      done();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const label = {
    ack: 'Acknowledge',
    shelve: 'Shelve',
    comment: 'Add comment',
    unshelve: 'Unshelve',
  }[action.kind];
  return (
    <form class="action" onSubmit={(e) => void submit(e)} data-testid="action-form">
      <h3>
        {label}: {a.deviceId} — {a.name}
      </h3>
      <p class="hint">
        <b>Consequence:</b> {a.consequence} <b>Response:</b> {a.response}
      </p>
      <label>
        {action.kind === 'shelve' ? 'Reason (required)' : 'Comment'}{' '}
        <input
          name="comment"
          value={comment}
          onInput={(e) => setComment(e.currentTarget.value)}
          size={60}
          autoFocus
        />
      </label>
      {action.kind === 'shelve' && (
        <label>
          Duration{' '}
          <input
            name="duration"
            value={duration}
            onInput={(e) => setDuration(e.currentTarget.value)}
            size={6}
          />
        </label>
      )}
      <button type="submit">{label}</button>{' '}
      <button type="button" onClick={done}>
        Cancel
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function AlarmsPage({
  session,
  masked,
  shelveMaxS,
}: {
  session: Session;
  masked: boolean;
  shelveMaxS: number;
}) {
  const { alarms, live } = useAlarms(session);
  const [action, setAction] = useState<Action | undefined>();
  const shown = alarms.filter((a) => MASKED.has(a.state) === masked);
  const act = mayAct(session.role);
  return (
    <section>
      <h2>
        {masked ? 'Shelved, suppressed and out of service' : 'Alarms'}{' '}
        <span class="count" data-testid="alarm-count">
          {shown.length}
        </span>{' '}
        <span class={live ? 'live on' : 'live'}>{live ? '● live' : '○ connecting'}</span>
      </h2>
      {action && (
        <ActionForm
          session={session}
          action={action}
          shelveMaxS={shelveMaxS}
          done={() => setAction(undefined)}
        />
      )}
      <table class="alarms" data-testid="alarm-table">
        <thead>
          <tr>
            <th>Priority</th>
            <th>State</th>
            <th>Device</th>
            <th>Alarm</th>
            <th>Value</th>
            <th>Raised</th>
            <th>{masked ? 'Why' : ''}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {shown.map((a) => (
            <tr
              key={a.id}
              data-alarm-id={a.id}
              data-state={a.state}
              class={`p-${a.priority} s-${a.state}`}
            >
              <td>
                <span class={`badge p-${a.priority}`}>{a.priority}</span>
              </td>
              <td class="state">{a.state.replace(/_/g, ' ')}</td>
              <td>
                <a href={`#/devices/${encodeURIComponent(a.deviceId)}`}>{a.deviceId}</a>
                <br />
                <small>
                  {a.park} / {a.site}
                </small>
              </td>
              <td>{a.name}</td>
              <td>
                {a.value === null ? '—' : String(a.value)}
                {a.limit !== null ? <small> (limit {a.limit})</small> : null}
              </td>
              <td>{time(a.raisedAt)}</td>
              <td>
                {a.shelf && (
                  <small>
                    shelved by {a.shelf.by} until {time(a.shelf.until)}: {a.shelf.reason}
                  </small>
                )}
                {a.outOfService && (
                  <small>
                    out of service ({a.outOfService.by}): {a.outOfService.reason}
                  </small>
                )}
              </td>
              <td class="buttons">
                {act && a.acknowledgeable && (
                  <button data-action="ack" onClick={() => setAction({ kind: 'ack', alarm: a })}>
                    {a.state === 'latched' ? 'Reset' : 'Ack'}
                  </button>
                )}
                {act && !MASKED.has(a.state) && (
                  <button
                    data-action="shelve"
                    onClick={() => setAction({ kind: 'shelve', alarm: a })}
                  >
                    Shelve
                  </button>
                )}
                {act && a.state === 'shelved' && (
                  <button
                    data-action="unshelve"
                    onClick={() => setAction({ kind: 'unshelve', alarm: a })}
                  >
                    Unshelve
                  </button>
                )}
                {act && (
                  <button
                    data-action="comment"
                    onClick={() => setAction({ kind: 'comment', alarm: a })}
                  >
                    Comment
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length === 0 && <p class="empty">No {masked ? 'masked ' : 'standing '}alarms.</p>}
      {!act && <p class="hint">You are a viewer: operators acknowledge and shelve.</p>}
    </section>
  );
}
