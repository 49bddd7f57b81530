import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AlarmsPage } from './alarms.js';
import { api, loadSession, saveSession, type Session } from './api.js';
import { DevicePage, DevicesPage } from './device.js';
import { KpiPage } from './kpis.js';
import './styles.css';

interface ConsoleConfig {
  grafanaUrl: string;
  dashboards: { title: string; url: string }[];
  shelveMaxS: number;
}

function useRoute(): string {
  const [hash, setHash] = useState(location.hash || '#/alarms');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/alarms');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.slice(1);
}

function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      onLogin(await api<Session>(undefined, 'POST', '/auth/tokens', { username, password }));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="login" onSubmit={(e) => void submit(e)} data-testid="login">
      <h1>ParkPulse console</h1>
      <label>
        User{' '}
        <input
          name="username"
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
          autoFocus
        />
      </label>
      <label>
        Password{' '}
        <input
          name="password"
          type="password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </label>
      <button type="submit">Log in</button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function App() {
  const [session, setSession] = useState<Session | undefined>(loadSession());
  const [config, setConfig] = useState<ConsoleConfig | undefined>();
  const route = useRoute();
  useEffect(() => {
    if (session)
      void api<ConsoleConfig>(session, 'GET', '/console/config').then(setConfig, () => undefined);
  }, [session]);
  const login = (s: Session) => {
    saveSession(s);
    setSession(s);
  };
  const logout = () => {
    saveSession(undefined);
    setSession(undefined);
  };
  if (!session) return <Login onLogin={login} />;
  const [, page, arg] = route.split('/');
  return (
    <div class="shell">
      <header>
        <strong>ParkPulse</strong>
        <nav>
          <a href="#/alarms" class={page === 'alarms' ? 'on' : ''}>
            Alarms
          </a>
          <a href="#/masked" class={page === 'masked' ? 'on' : ''}>
            Shelved &amp; suppressed
          </a>
          <a href="#/devices" class={page === 'devices' ? 'on' : ''}>
            Devices
          </a>
          <a href="#/kpis" class={page === 'kpis' ? 'on' : ''}>
            KPIs
          </a>
        </nav>
        <span class="grafana">
          Trends in Grafana:{' '}
          {config?.dashboards.map((d) => (
            <a href={d.url} target="_blank" rel="noreferrer" key={d.url}>
              {d.title}
            </a>
          ))}
        </span>
        <span class="who" data-testid="who">
          {session.username} ({session.role}) <button onClick={logout}>Log out</button>
        </span>
      </header>
      <main>
        {page === 'alarms' && (
          <AlarmsPage session={session} masked={false} shelveMaxS={config?.shelveMaxS ?? 28800} />
        )}
        {page === 'masked' && (
          <AlarmsPage session={session} masked={true} shelveMaxS={config?.shelveMaxS ?? 28800} />
        )}
        {page === 'devices' && !arg && <DevicesPage session={session} />}
        {page === 'devices' && arg && (
          <DevicePage
            session={session}
            deviceId={decodeURIComponent(arg)}
            grafanaUrl={config?.grafanaUrl}
          />
        )}
        {page === 'kpis' && <KpiPage session={session} />}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
