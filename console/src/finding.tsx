import { useMemo, useState } from 'preact/hooks';
import { api, ApiError, type Finding, type Scope, type SeriesPoint } from './api.js';
import { SeriesChart, type Span } from './chart.js';
import { minutes, num, seriesName, when } from './format.js';
import { errorText, useLoad } from './load.js';
import { href, navigate } from './router.js';

interface Attribution {
  attribute: string;
  insight: { value: string; average: number }[];
  baseline: { value: string; average: number }[];
}

interface InsightRecord {
  eventTime: string;
  insightDetails: {
    state: 'Start' | 'End';
    insightContext?: {
      statistics?: {
        baseline: { average: number };
        insight: { average: number };
        insightDuration?: number;
        baselineDuration?: number;
      };
      attributions?: Attribution[];
    };
  };
}

interface SampledEvent {
  eventId: string;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  recipientAccountId: string;
  userIdentityArn: string;
  sourceIPAddress: string;
  userAgent: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters?: unknown;
}

/** A route this api does not have yet answers 404: shown as "not available", never as a failure. */
async function optional<T>(path: string): Promise<T | null> {
  try {
    return await api<T>(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export function FindingPage({ id, scope }: { id: string; scope: Scope }) {
  const path = `/v1/findings/${encodeURIComponent(id)}`;
  const finding = useLoad(() => api<Finding>(path), [path], 10_000);
  const series = useLoad(() => api<{ points: SeriesPoint[] }>(`${path}/series`), [path]);
  const records = useLoad(() => api<InsightRecord[]>(`${path}/records`), [path]);
  const events = useLoad(() => optional<{ items: SampledEvent[] }>(`${path}/events`), [path]);

  const f = finding.data;
  const spans = useMemo<Span[]>(
    () => (f ? [{ from: Date.parse(f.startTime), to: f.endTime ? Date.parse(f.endTime) : undefined }] : []),
    [f?.startTime, f?.endTime],
  );
  if (finding.error)
    return (
      <p role="alert" class="error">
        {errorText(finding.error)}
      </p>
    );
  if (!f) return <p class="muted">Loading…</p>;
  const last = records.data?.[records.data.length - 1];
  return (
    <article class="finding">
      <p>
        <a href={href('/findings')}>← Findings</a>
      </p>
      <h1>
        {seriesName(f)} <span class={`badge ${f.state}`}>{f.state}</span>
      </h1>
      <p class="muted">
        {f.insightType} ({f.direction}) · {f.accountId} / {f.region} · {when(f.startTime)}
        {f.endTime ? ` → ${when(f.endTime)}` : ' → ongoing'} · triage {f.triage}
        {f.suppressedBy?.length ? ' · suppressed' : ''}
      </p>

      <section aria-labelledby="chart-title">
        <h2 id="chart-title">Calls per minute</h2>
        <p class="legend muted">
          Blue: calls per minute · green band: expected range · dashed grey: 7-day baseline average · red shade: the
          insight, Start and End marked
        </p>
        {series.error && (
          <p role="alert" class="error">
            {errorText(series.error)}
          </p>
        )}
        {series.data && <SeriesChart points={series.data.points} spans={spans} />}
      </section>

      <section aria-labelledby="stats-title">
        <h2 id="stats-title">Statistics</h2>
        <dl class="stats">
          <dt>Baseline average</dt>
          <dd>{num(f.baselineAverage)} per minute</dd>
          <dt>Insight average</dt>
          <dd>{num(f.insightAverage)} per minute</dd>
          <dt>Insight duration</dt>
          <dd>{minutes(f.durationMinutes)}</dd>
          <dt>Baseline duration</dt>
          <dd>{minutes(f.baselineDurationMinutes)}</dd>
          <dt>Peak score</dt>
          <dd>{num(f.peakScore)}</dd>
        </dl>
      </section>

      <section aria-labelledby="attr-title">
        <h2 id="attr-title">Attributions (insight vs baseline)</h2>
        {last?.insightDetails.insightContext?.attributions?.map((attribution) => (
          <Attributions attribution={attribution} fresh={newActors(f, attribution.attribute)} />
        )) ?? <p class="muted">No attributions recorded.</p>}
      </section>

      <section aria-labelledby="events-title">
        <h2 id="events-title">The calls behind it</h2>
        <EventsTable loaded={events} />
      </section>

      {scope === 'admin' ? (
        <Actions finding={f} onChanged={finding.reload} />
      ) : (
        <p class="muted">Triage and suppression need an API key with the admin scope.</p>
      )}

      <section aria-labelledby="records-title">
        <h2 id="records-title">CloudTrail Insights records</h2>
        {records.data && <Records records={records.data} />}
      </section>
    </article>
  );
}

function newActors(finding: Finding, attribute: string): Set<string> {
  const actors = finding.newActors as Record<string, string[] | undefined> | undefined;
  return new Set(actors?.[attribute] ?? []);
}

function Attributions({ attribution, fresh }: { attribution: Attribution; fresh: Set<string> }) {
  const baseline = new Map(attribution.baseline.map((b) => [b.value, b.average]));
  const max = Math.max(
    ...attribution.insight.map((i) => i.average),
    ...attribution.baseline.map((b) => b.average),
    1e-9,
  );
  const bar = (value: number, kind: string) => (
    <svg class={`bar ${kind}`} width="160" height="10" aria-hidden="true">
      <rect width={Math.max(1, (value / max) * 160)} height="10" />
    </svg>
  );
  return (
    <table class="attributions">
      <caption>{attribution.attribute}</caption>
      <thead>
        <tr>
          <th>Value</th>
          <th>Insight avg</th>
          <th>Baseline avg</th>
        </tr>
      </thead>
      <tbody>
        {attribution.insight.map((item) => (
          <tr key={item.value}>
            <td>
              {item.value} {fresh.has(item.value) && <span class="badge new">new</span>}
            </td>
            <td>
              {bar(item.average, 'insight')} {num(item.average)}
            </td>
            <td>
              {bar(baseline.get(item.value) ?? 0, 'baseline')} {num(baseline.get(item.value) ?? 0)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EventsTable({ loaded }: { loaded: { data?: { items: SampledEvent[] } | null; error?: Error } }) {
  if (loaded.error)
    return (
      <p role="alert" class="error">
        {errorText(loaded.error)}
      </p>
    );
  if (loaded.data === undefined) return <p class="muted">Loading…</p>;
  if (loaded.data === null) return <p class="muted">This server does not keep sample events (no /events route).</p>;
  if (loaded.data.items.length === 0) return <p class="muted">No sample events were kept for this insight.</p>;
  return (
    <div class="scroll">
      <table class="events">
        <thead>
          <tr>
            <th>Time</th>
            <th>API</th>
            <th>Identity</th>
            <th>Source IP</th>
            <th>User agent</th>
            <th>Error</th>
            <th>Request parameters</th>
          </tr>
        </thead>
        <tbody>
          {loaded.data.items.map((event) => (
            <tr class="event-row" key={event.eventId}>
              <td>{when(event.eventTime)}</td>
              <td class="event-name">{event.eventName}</td>
              <td>{event.userIdentityArn}</td>
              <td>{event.sourceIPAddress}</td>
              <td>{event.userAgent}</td>
              <td>
                {event.errorCode ? `${event.errorCode}${event.errorMessage ? `: ${event.errorMessage}` : ''}` : ''}
              </td>
              <td>
                <code>{event.requestParameters == null ? '' : JSON.stringify(event.requestParameters)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Records({ records }: { records: InsightRecord[] }) {
  const text = JSON.stringify(records, null, 2);
  const [copied, setCopied] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('Copied');
    } catch {
      setCopied('The browser refused the clipboard: select the text and copy it');
    }
  };
  return (
    <>
      <button type="button" onClick={copy}>
        Copy records
      </button>{' '}
      <span aria-live="polite">{copied}</span>
      <pre class="records">{text}</pre>
    </>
  );
}

function Actions({ finding, onChanged }: { finding: Finding; onChanged: () => void }) {
  const [note, setNote] = useState('');
  const [message, setMessage] = useState<string>();
  const [muting, setMuting] = useState(false);
  const triage = async (to: Finding['triage']) => {
    try {
      await api(`/v1/findings/${encodeURIComponent(finding.id)}`, {
        method: 'PATCH',
        body: { triage: to, ...(note.trim() ? { note: note.trim() } : {}) },
      });
      setNote('');
      setMessage(`Marked ${to}`);
      onChanged();
    } catch (error) {
      setMessage(errorText(error as Error));
    }
  };
  return (
    <section aria-labelledby="actions-title" class="actions">
      <h2 id="actions-title">Triage</h2>
      <label>
        Note
        <textarea name="note" maxLength={1000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      <div class="buttons">
        <button type="button" onClick={() => triage('acknowledged')} disabled={finding.triage === 'acknowledged'}>
          Acknowledge
        </button>
        <button type="button" onClick={() => triage('resolved')} disabled={finding.triage === 'resolved'}>
          Resolve
        </button>
        <button type="button" onClick={() => triage('new')} disabled={finding.triage === 'new'}>
          Reopen
        </button>
        <button type="button" onClick={() => setMuting(!muting)} aria-expanded={muting}>
          Mute similar…
        </button>
      </div>
      {message && <p aria-live="polite">{message}</p>}
      {finding.history?.length ? (
        <ul class="history">
          {finding.history.map((h) => (
            <li>
              {when(h.at)}: {h.from} → {h.to} by {h.keyId}
              {h.note ? `: ${h.note}` : ''}
            </li>
          ))}
        </ul>
      ) : null}
      {muting && <MuteSimilar finding={finding} />}
    </section>
  );
}

/** A suppression pre-filled from this finding: preview what it would have muted, then create it. */
function MuteSimilar({ finding }: { finding: Finding }) {
  const [match, setMatch] = useState<Record<string, string>>({
    accountId: finding.accountId,
    region: finding.region,
    eventSource: finding.eventSource,
    eventName: finding.eventName,
    insightType: finding.insightType,
    ...(finding.errorCode ? { errorCode: finding.errorCode } : {}),
  });
  const [reason, setReason] = useState(`Like ${seriesName(finding)} on ${finding.startTime.slice(0, 10)}`);
  const [expiresAt, setExpiresAt] = useState('');
  const [result, setResult] = useState<string>();
  const body = () => {
    const cleaned = Object.fromEntries(Object.entries(match).filter(([, v]) => v.trim() !== ''));
    return { match: cleaned, reason, ...(expiresAt ? { expiresAt: new Date(expiresAt).toISOString() } : {}) };
  };
  const preview = async () => {
    try {
      const answer = await api<{ days: number; matched: number; examined: number }>('/v1/suppressions/preview', {
        method: 'POST',
        body: { match: body().match, days: 30 },
      });
      setResult(`Would have muted ${answer.matched} of ${answer.examined} findings in the last ${answer.days} days`);
    } catch (error) {
      setResult(errorText(error as Error));
    }
  };
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      await api('/v1/suppressions', { method: 'POST', body: body() });
      navigate('/settings', { tab: 'suppressions' });
    } catch (error) {
      setResult(errorText(error as Error));
    }
  };
  return (
    <form class="mute" onSubmit={create} aria-label="Mute similar findings">
      {Object.entries(match).map(([name, value]) => (
        <label>
          {name}
          <input name={name} value={value} onInput={(e) => setMatch({ ...match, [name]: e.currentTarget.value })} />
        </label>
      ))}
      <label>
        Reason
        <input name="reason" required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      <label>
        Expires
        <input
          type="datetime-local"
          name="expiresAt"
          value={expiresAt}
          onInput={(e) => setExpiresAt(e.currentTarget.value)}
        />
      </label>
      <div class="buttons">
        <button type="button" onClick={preview}>
          Preview
        </button>
        <button type="submit">Create suppression</button>
      </div>
      {result && <p aria-live="polite">{result}</p>}
    </form>
  );
}
