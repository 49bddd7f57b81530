import { useEffect, useState } from 'preact/hooks';
import { api, PRIORITIES, type Priority, type Session } from './api.js';

interface Kpis {
  from: number;
  to: number;
  operators: number;
  annunciated: number;
  perOperatorPer10Min: { average: number; peak: number };
  floods: {
    count: number;
    percentOfTime: number;
    periods: { from: number; to: number; alarms: number }[];
  };
  chattering: { alarmId: string; name: string; activations: number }[];
  stale: { alarmId: string; name: string; since: number }[];
  priorityMix: Record<Priority, { count: number; percent: number }>;
  top10: { alarmId: string; name: string; count: number; percent: number }[];
}

const t = (ms: number) => new Date(ms).toLocaleString();

/** The ISA-18.2 performance figures, refreshed every 10 s. */
export function KpiPage({ session }: { session: Session }) {
  const [k, setK] = useState<Kpis | undefined>();
  const [windowH, setWindowH] = useState(24);
  useEffect(() => {
    const load = () =>
      api<Kpis>(session, 'GET', `/alarms/kpis?windowH=${windowH}`).then(setK, () => undefined);
    void load();
    const timer = setInterval(() => void load(), 10_000);
    return () => clearInterval(timer);
  }, [windowH, session.token]);
  if (!k) return <p>Loading…</p>;
  return (
    <section data-testid="kpis">
      <h2>
        Alarm system performance{' '}
        <select value={windowH} onChange={(e) => setWindowH(Number(e.currentTarget.value))}>
          <option value={1}>last hour</option>
          <option value={24}>last 24 h</option>
          <option value={168}>last 7 days</option>
        </select>
      </h2>
      <div class="cards">
        <div class="card">
          <b data-testid="kpi-annunciated">{k.annunciated}</b>alarms annunciated
        </div>
        <div class="card">
          <b>{k.perOperatorPer10Min.average}</b>per operator per 10 min (mean; ISA-18.2: ~1 is
          manageable)
        </div>
        <div class="card">
          <b>{k.perOperatorPer10Min.peak}</b>in the busiest 10 min, per operator
        </div>
        <div class="card">
          <b data-testid="kpi-floods">{k.floods.count}</b>floods (&gt; 10 in 10 min),{' '}
          {k.floods.percentOfTime} % of the time
        </div>
        <div class="card">
          <b data-testid="kpi-chattering">{k.chattering.length}</b>chattering (≥ 3 in a minute)
        </div>
        <div class="card">
          <b data-testid="kpi-stale">{k.stale.length}</b>stale (standing &gt; 24 h)
        </div>
      </div>
      <h3>
        Priority mix <small>(ISA-18.2 guidance: about 80 % low, 15 % medium, 5 % high)</small>
      </h3>
      <div class="mix">
        {PRIORITIES.filter((p) => k.priorityMix[p].count > 0).map((p) => (
          <div
            key={p}
            class={`bar p-${p}`}
            style={{ width: `${Math.max(k.priorityMix[p].percent, 0.5)}%` }}
            title={`${p}: ${k.priorityMix[p].count}`}
          >
            {k.priorityMix[p].percent >= 8 ? `${p} ${k.priorityMix[p].percent} %` : ''}
          </div>
        ))}
      </div>
      <ul class="legend">
        {PRIORITIES.map((p) => (
          <li key={p}>
            {p}: {k.priorityMix[p].count} ({k.priorityMix[p].percent} %)
          </li>
        ))}
      </ul>
      <div class="columns">
        <div>
          <h3>Top 10 most frequent</h3>
          <table data-testid="top10">
            <tbody>
              {k.top10.map((x) => (
                <tr key={x.alarmId}>
                  <td>{x.name}</td>
                  <td>{x.count}</td>
                  <td>{x.percent} %</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h3>Floods</h3>
          <ul>
            {k.floods.periods.map((p) => (
              <li key={p.from}>
                {t(p.from)} – {new Date(p.to).toLocaleTimeString()}: {p.alarms} alarms
              </li>
            ))}
          </ul>
          <h3>Chattering</h3>
          <ul>
            {k.chattering.map((c) => (
              <li key={c.alarmId}>
                {c.name}: {c.activations}
              </li>
            ))}
          </ul>
          <h3>Stale</h3>
          <ul>
            {k.stale.map((s) => (
              <li key={s.alarmId}>
                {s.name} since {t(s.since)}
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}
