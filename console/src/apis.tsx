import { useMemo } from 'preact/hooks';
import { api, ApiError, query, type Finding, type SeriesPoint, type TrackedApi } from './api.js';
import { SeriesChart, Sparkline, type Span } from './chart.js';
import { num, seriesName, when } from './format.js';
import { errorText, useLoad } from './load.js';
import { href } from './router.js';

const HOUR_MS = 3_600_000;
const SPARK_ROWS = 40;

interface SeriesAnswer {
  period: number;
  points: SeriesPoint[];
}

function seriesQuery(
  a: Pick<TrackedApi, 'accountId' | 'region' | 'eventSource' | 'eventName' | 'insightType' | 'errorCode'>,
) {
  return {
    accountId: a.accountId,
    region: a.region,
    eventSource: a.eventSource,
    eventName: a.eventName,
    insightType: a.insightType,
    errorCode: a.errorCode,
  };
}

/** GET /v1/series, or null where this api does not serve it (404). */
async function loadSeries(params: Record<string, string | undefined>): Promise<SeriesAnswer | null> {
  try {
    return await api<SeriesAnswer>(`/v1/series${query(params)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export function ApisPage({ params }: { params: URLSearchParams }) {
  const filter = { accountId: params.get('accountId') ?? undefined, region: params.get('region') ?? undefined };
  const apis = useLoad(
    () => api<{ items: TrackedApi[]; total: number }>(`/v1/apis${query({ ...filter, limit: 200 })}`),
    [params.toString()],
    30_000,
  );
  return (
    <section>
      <h1>APIs</h1>
      {apis.error && (
        <p role="alert" class="error">
          {errorText(apis.error)}
        </p>
      )}
      <p class="muted">
        {apis.data ? `${apis.data.items.length} of ${apis.data.total} tracked series, busiest first` : 'Loading…'}
      </p>
      <table class="apis">
        <thead>
          <tr>
            <th>API</th>
            <th>Type</th>
            <th>Account / region</th>
            <th>Calls this minute</th>
            <th>Baseline avg</th>
            <th>Last 6 hours</th>
            <th>Open finding</th>
          </tr>
        </thead>
        <tbody>
          {apis.data?.items.map((item, index) => (
            <tr
              class="api-row"
              key={`${item.insightType}|${item.accountId}|${item.region}|${item.eventSource}|${item.eventName}|${item.errorCode ?? ''}`}
            >
              <td>
                <a href={href('/apis', seriesQuery(item))}>{seriesName(item)}</a>
                {item.warmingUp && <span class="badge muted">warming up</span>}
              </td>
              <td>{item.insightType === 'ApiCallRateInsight' ? 'calls' : 'errors'}</td>
              <td>
                {item.accountId} / {item.region}
              </td>
              <td>{num(item.currentRate)}</td>
              <td>{num(item.baselineAverage)}</td>
              <td>{index < SPARK_ROWS ? <RowSparkline item={item} /> : null}</td>
              <td>
                {item.openFindingId && <a href={href(`/findings/${encodeURIComponent(item.openFindingId)}`)}>open</a>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function RowSparkline({ item }: { item: TrackedApi }) {
  const until = useMemo(() => new Date(Math.floor(Date.now() / 60_000) * 60_000), []);
  const since = new Date(until.getTime() - 6 * HOUR_MS);
  const loaded = useLoad(
    () => loadSeries({ ...seriesQuery(item), since: since.toISOString(), until: until.toISOString(), period: '300' }),
    [item.accountId, item.region, item.eventSource, item.eventName, item.insightType, item.errorCode],
  );
  if (loaded.data === null) return <span class="muted">n/a</span>;
  return loaded.data ? <Sparkline values={loaded.data.points.map((p) => p.value)} /> : null;
}

/** One series' last 7 days, per minute, with its findings shaded. */
export function ApiSeriesPage({ params }: { params: URLSearchParams }) {
  const target = Object.fromEntries(
    ['accountId', 'region', 'eventSource', 'eventName', 'insightType', 'errorCode'].map((n) => [
      n,
      params.get(n) ?? undefined,
    ]),
  ) as Record<string, string | undefined>;
  const key = params.toString();
  const until = useMemo(() => new Date(Math.floor(Date.now() / 60_000) * 60_000), [key]);
  const since = new Date(until.getTime() - 7 * 24 * HOUR_MS);
  const series = useLoad(
    () =>
      loadSeries({
        ...target,
        since: since.toISOString(),
        until: until.toISOString(),
        period: params.get('period') ?? '60',
      }),
    [key],
  );
  const findings = useLoad(
    () =>
      api<{ items: Finding[] }>(
        `/v1/findings${query({ ...target, since: since.toISOString(), suppressed: 'include', limit: 200 })}`,
      ),
    [key],
  );
  const spans = useMemo<Span[]>(
    () =>
      (findings.data?.items ?? []).map((f) => ({
        from: Date.parse(f.startTime),
        to: f.endTime ? Date.parse(f.endTime) : undefined,
      })),
    [findings.data],
  );
  const name = seriesName({
    eventSource: target.eventSource ?? '',
    eventName: target.eventName ?? '',
    errorCode: target.errorCode,
  });
  return (
    <section>
      <p>
        <a href={href('/apis')}>← APIs</a>
      </p>
      <h1>{name}</h1>
      <p class="muted">
        {target.insightType} · {target.accountId} / {target.region} · {when(since.toISOString())} →{' '}
        {when(until.toISOString())}
      </p>
      <nav class="tabs" aria-label="Bucket width">
        {[
          ['60', 'per minute'],
          ['300', 'per 5 minutes'],
          ['3600', 'per hour'],
        ].map(([period, label]) => (
          <a
            href={href('/apis', { ...target, period })}
            aria-current={(params.get('period') ?? '60') === period ? 'page' : undefined}
          >
            {label}
          </a>
        ))}
      </nav>
      {series.error && (
        <p role="alert" class="error">
          {errorText(series.error)}
        </p>
      )}
      {series.data === null && <p class="muted">This server does not serve /v1/series yet.</p>}
      {series.data && findings.data && <SeriesChart points={series.data.points} spans={spans} height={360} />}
      <h2>Findings in these 7 days</h2>
      <ul>
        {findings.data?.items.map((f) => (
          <li>
            <a href={href(`/findings/${encodeURIComponent(f.id)}`)}>
              {when(f.startTime)} ({f.state}, {num(f.insightAverage)} vs {num(f.baselineAverage)})
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
