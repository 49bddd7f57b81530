import { useEffect, useState } from 'preact/hooks';
import { api, mayAct, time, type Alarm, type HistoryEntry, type Session } from './api.js';

interface Device {
  park: string;
  site: string;
  assetType: string;
  deviceId: string;
  online: boolean | null;
  since: string | null;
}

interface DeviceView extends Device {
  values: Record<string, { value: number | boolean | string | null; at: string }>;
  events: { at: string; code: string; severity: string; message: string }[];
  alarms: Alarm[];
  alarmHistory: HistoryEntry[];
}

type ParamSpec =
  | {
      kind: 'number';
      unit: string;
      min: number;
      max: number;
      integer?: boolean;
      description: string;
    }
  | { kind: 'boolean'; description: string }
  | { kind: 'enum'; values: string[]; description: string };

type Catalogue = Record<
  string,
  Record<string, { description: string; params: Record<string, ParamSpec> }>
>;

export function DevicesPage({ session }: { session: Session }) {
  const [devices, setDevices] = useState<Device[]>([]);
  const [filter, setFilter] = useState('');
  useEffect(() => {
    void api<{ devices: Device[] }>(session, 'GET', '/devices').then(
      (r) => setDevices(r.devices),
      () => undefined,
    );
  }, [session.token]);
  const shown = devices.filter((d) =>
    `${d.deviceId} ${d.assetType} ${d.park} ${d.site}`.includes(filter),
  );
  return (
    <section>
      <h2>
        Devices <span class="count">{shown.length}</span>
      </h2>
      <input
        placeholder="filter"
        value={filter}
        onInput={(e) => setFilter(e.currentTarget.value)}
      />
      <table>
        <thead>
          <tr>
            <th>Device</th>
            <th>Type</th>
            <th>Park / site</th>
            <th>Presence</th>
          </tr>
        </thead>
        <tbody>
          {shown.slice(0, 500).map((d) => (
            <tr key={d.deviceId}>
              <td>
                <a href={`#/devices/${encodeURIComponent(d.deviceId)}`}>{d.deviceId}</a>
              </td>
              <td>{d.assetType}</td>
              <td>
                {d.park} / {d.site}
              </td>
              <td class={d.online ? 'online' : 'offline'}>
                {d.online ? 'online' : 'offline'} since {time(d.since)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function CommandForm({ session, device }: { session: Session; device: DeviceView }) {
  const [catalogue, setCatalogue] = useState<Catalogue>({});
  const [name, setName] = useState('');
  const [params, setParams] = useState<Record<string, string>>({});
  const [status, setStatus] = useState('');
  useEffect(() => {
    void api<{ assetTypes: Catalogue }>(session, 'GET', '/catalogue/commands').then(
      (c) => setCatalogue(c.assetTypes),
      () => undefined,
    );
  }, [session.token]);
  const commands = catalogue[device.assetType] ?? {};
  const spec = commands[name];
  const send = async (e: Event) => {
    e.preventDefault();
    if (!spec) return;
    const typed: Record<string, number | boolean | string> = {};
    for (const [k, p] of Object.entries(spec.params)) {
      const v = params[k];
      if (v === undefined || v === '') continue;
      typed[k] = p.kind === 'number' ? Number(v) : p.kind === 'boolean' ? v === 'true' : v;
    }
    try {
      const c = await api<{ id: string; state: string }>(
        session,
        'POST',
        `/devices/${encodeURIComponent(device.deviceId)}/commands`,
        { name, params: typed },
      );
      setStatus(`${c.id}: ${c.state}`);
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const now = await api<{ state: string; reason: string }>(
          session,
          'GET',
          `/commands/${c.id}`,
        );
        setStatus(`${c.id}: ${now.state}${now.reason ? ` (${now.reason})` : ''}`);
        if (['done', 'failed', 'rejected', 'expired', 'cancelled'].includes(now.state)) break;
      }
    } catch (err) {
      setStatus((err as Error).message);
    }
  };
  if (Object.keys(commands).length === 0)
    return <p class="hint">This asset type takes no commands.</p>;
  return (
    <form class="action" onSubmit={(e) => void send(e)} data-testid="command-form">
      <label>
        Command{' '}
        <select
          value={name}
          onChange={(e) => {
            setName(e.currentTarget.value);
            setParams({});
          }}
        >
          <option value="">—</option>
          {Object.entries(commands).map(([k, c]) => (
            <option value={k} key={k}>
              {k} — {c.description}
            </option>
          ))}
        </select>
      </label>
      {spec &&
        Object.entries(spec.params).map(([k, p]) => (
          <label key={k} title={p.description}>
            {k}{' '}
            {p.kind === 'enum' ? (
              <select
                value={params[k] ?? ''}
                onChange={(e) => setParams({ ...params, [k]: e.currentTarget.value })}
              >
                <option value="">—</option>
                {p.values.map((v) => (
                  <option key={v}>{v}</option>
                ))}
              </select>
            ) : p.kind === 'boolean' ? (
              <select
                value={params[k] ?? ''}
                onChange={(e) => setParams({ ...params, [k]: e.currentTarget.value })}
              >
                <option value="">—</option>
                <option>true</option>
                <option>false</option>
              </select>
            ) : (
              <input
                type="number"
                min={p.min}
                max={p.max}
                step={p.integer ? 1 : 'any'}
                value={params[k] ?? ''}
                onInput={(e) => setParams({ ...params, [k]: e.currentTarget.value })}
              />
            )}
            {p.kind === 'number' && (
              <small>
                {' '}
                {p.min}–{p.max} {p.unit}
              </small>
            )}
          </label>
        ))}
      <button type="submit" disabled={!spec}>
        Send
      </button>{' '}
      <span data-testid="command-status">{status}</span>
    </form>
  );
}

export function DevicePage({
  session,
  deviceId,
  grafanaUrl,
}: {
  session: Session;
  deviceId: string;
  grafanaUrl: string | undefined;
}) {
  const [device, setDevice] = useState<DeviceView | undefined>();
  const [error, setError] = useState('');
  useEffect(() => {
    const load = () =>
      api<DeviceView>(session, 'GET', `/devices/${encodeURIComponent(deviceId)}`).then(
        setDevice,
        (e: Error) => setError(e.message),
      );
    void load();
    const t = setInterval(() => void load(), 3000);
    return () => clearInterval(t);
  }, [deviceId, session.token]);
  if (error && !device) return <p class="error">{error}</p>;
  if (!device) return <p>Loading…</p>;
  return (
    <section data-testid="device-view">
      <h2>
        {device.deviceId}{' '}
        <small>
          {device.assetType} · {device.park} / {device.site}
        </small>{' '}
        <span class={device.online ? 'online' : 'offline'} data-testid="presence">
          {device.online === null ? 'presence unknown' : device.online ? 'online' : 'offline'}
        </span>
        {grafanaUrl && (
          <>
            {' '}
            <a
              href={`${grafanaUrl}/d/parkpulse-device?var-device=${encodeURIComponent(device.deviceId)}`}
              target="_blank"
              rel="noreferrer"
            >
              history in Grafana
            </a>
          </>
        )}
      </h2>
      <div class="columns">
        <div>
          <h3>Last values</h3>
          <table data-testid="values">
            <tbody>
              {Object.entries(device.values).map(([k, v]) => (
                <tr key={k}>
                  <td>{k}</td>
                  <td>{String(v.value)}</td>
                  <td>
                    <small>{time(v.at)}</small>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h3>Alarms</h3>
          <table>
            <tbody>
              {device.alarms.map((a) => (
                <tr key={a.id} data-alarm-id={a.id} data-state={a.state}>
                  <td>
                    <span class={`badge p-${a.priority}`}>{a.priority}</span>
                  </td>
                  <td>{a.name}</td>
                  <td class="state">{a.state.replace(/_/g, ' ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Alarm history</h3>
          <table data-testid="alarm-history">
            <tbody>
              {device.alarmHistory.map((h, i) => (
                <tr key={i}>
                  <td>
                    <small>{time(h.at)}</small>
                  </td>
                  <td>{h.alarmId?.slice(device.deviceId.length + 1)}</td>
                  <td>{h.action}</td>
                  <td>{h.toState.replace(/_/g, ' ')}</td>
                  <td>{h.by}</td>
                  <td>{h.comment}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Recent events</h3>
          <ul>
            {device.events.map((e, i) => (
              <li key={i}>
                {time(e.at)} <b>{e.severity}</b> {e.code} {e.message}
              </li>
            ))}
            {device.events.length === 0 && <li class="hint">none since the service started</li>}
          </ul>
        </div>
      </div>
      <h3>Send a command</h3>
      {mayAct(session.role) ? (
        <CommandForm session={session} device={device} />
      ) : (
        <p class="hint">Operators send commands.</p>
      )}
    </section>
  );
}
