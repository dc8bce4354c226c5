import { api, query, type Finding } from './api.js';
import { minutes, num, seriesName, when } from './format.js';
import { errorText, useLoad } from './load.js';
import { href, navigate } from './router.js';

/** Every filter GET /v1/findings takes, as it names them; the URL carries them. */
const FILTERS = [
  'state',
  'insightType',
  'eventSource',
  'eventName',
  'errorCode',
  'accountId',
  'region',
  'since',
  'until',
  'triage',
  'suppressed',
] as const;
const PAGE = 50;
const REFRESH_MS = 4_000;

interface Page {
  items: Finding[];
  nextCursor?: string;
}

interface Listing {
  open: Finding[];
  moreOpen?: string;
  rest: Finding[];
  nextCursor?: string;
}

export function FindingsPage({ params }: { params: URLSearchParams }) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? undefined]));
  const cursor = params.get('cursor') ?? undefined;
  const key = params.toString();
  const listing = useLoad(() => list(filters, cursor), [key], REFRESH_MS);

  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const next: Record<string, string | undefined> = {};
    for (const name of FILTERS) {
      const value = String(form.get(name) ?? '').trim();
      next[name] = (name === 'since' || name === 'until') && value ? new Date(value).toISOString() : value;
    }
    navigate('/findings', next);
  };

  const rows = listing.data ? [...listing.data.open, ...listing.data.rest] : [];
  return (
    <section>
      <h1>Findings</h1>
      <form class="filters" onSubmit={apply} aria-label="Filters">
        <Select name="state" value={filters.state} options={['', 'open', 'closed']} label="State" />
        <Select
          name="insightType"
          value={filters.insightType}
          options={['', 'ApiCallRateInsight', 'ApiErrorRateInsight']}
          label="Type"
        />
        <Text name="eventSource" value={filters.eventSource} label="Service" placeholder="ec2.amazonaws.com" />
        <Text name="eventName" value={filters.eventName} label="API" placeholder="RunInstances" />
        <Text name="errorCode" value={filters.errorCode} label="Error code" placeholder="AccessDenied" />
        <Text name="accountId" value={filters.accountId} label="Account" placeholder="123456789012" />
        <Text name="region" value={filters.region} label="Region" placeholder="us-east-1" />
        <Time name="since" value={filters.since} label="Since" />
        <Time name="until" value={filters.until} label="Until" />
        <Select name="triage" value={filters.triage} options={['', 'new', 'acknowledged', 'resolved']} label="Triage" />
        <Select
          name="suppressed"
          value={filters.suppressed}
          options={['', 'exclude', 'include', 'only']}
          label="Suppressed"
        />
        <button type="submit">Apply</button>
        <a href={href('/findings')}>Clear</a>
      </form>
      {listing.error && (
        <p role="alert" class="error">
          {errorText(listing.error)}
        </p>
      )}
      <p class="muted" aria-live="polite">
        {listing.loading ? 'Loading…' : `${rows.length} shown; refreshes every ${REFRESH_MS / 1000} s`}
      </p>
      <table class="findings">
        <thead>
          <tr>
            <th>State</th>
            <th>Start</th>
            <th>API</th>
            <th>Type</th>
            <th>Account / region</th>
            <th>Insight avg</th>
            <th>Baseline avg</th>
            <th>Duration</th>
            <th>Triage</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((finding) => (
            <tr class={`finding-row ${finding.state}`} data-id={finding.id} key={finding.id}>
              <td>
                <span class={`badge ${finding.state}`}>{finding.state}</span>
                {finding.suppressedBy?.length ? <span class="badge muted">suppressed</span> : null}
              </td>
              <td>{when(finding.startTime)}</td>
              <td>
                <a href={href(`/findings/${encodeURIComponent(finding.id)}`)}>{seriesName(finding)}</a>
              </td>
              <td>{finding.insightType === 'ApiCallRateInsight' ? `call rate ${finding.direction}` : 'error rate'}</td>
              <td>
                {finding.accountId} / {finding.region}
              </td>
              <td>{num(finding.insightAverage)}</td>
              <td>{num(finding.baselineAverage)}</td>
              <td>{minutes(finding.durationMinutes)}</td>
              <td>{finding.triage}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav class="pager" aria-label="Pages">
        {cursor && <a href={href('/findings', filters)}>First page</a>}
        {listing.data?.moreOpen && (
          <a href={href('/findings', { ...filters, state: 'open', cursor: listing.data.moreOpen })}>
            More open findings
          </a>
        )}
        {listing.data?.nextCursor && (
          <a href={href('/findings', { ...filters, cursor: listing.data.nextCursor })}>Next page</a>
        )}
      </nav>
    </section>
  );
}

/**
 * Open findings first: without a state filter the first page lists the open ones, then the
 * closed ones newest first; later pages follow the closed findings' cursor.
 */
async function list(filters: Record<string, string | undefined>, cursor: string | undefined): Promise<Listing> {
  const get = (extra: Record<string, string | undefined>) =>
    api<Page>(`/v1/findings${query({ ...filters, ...extra, limit: PAGE })}`);
  if (filters.state) {
    const page = await get({ cursor });
    return { open: [], rest: page.items, nextCursor: page.nextCursor };
  }
  const [open, closed] = await Promise.all([
    cursor ? Promise.resolve<Page>({ items: [] }) : get({ state: 'open' }),
    get({ state: 'closed', cursor }),
  ]);
  return { open: open.items, moreOpen: open.nextCursor, rest: closed.items, nextCursor: closed.nextCursor };
}

function Text(props: { name: string; value?: string; label: string; placeholder?: string }) {
  return (
    <label>
      {props.label}
      <input name={props.name} value={props.value ?? ''} placeholder={props.placeholder} />
    </label>
  );
}

function Time(props: { name: string; value?: string; label: string }) {
  // datetime-local shows local time; the URL and the API carry UTC.
  const local = props.value ? toLocalInput(props.value) : '';
  return (
    <label>
      {props.label}
      <input type="datetime-local" name={props.name} value={local} />
    </label>
  );
}

function toLocalInput(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function Select(props: { name: string; value?: string; label: string; options: string[] }) {
  return (
    <label>
      {props.label}
      <select name={props.name} value={props.value ?? ''}>
        {props.options.map((option) => (
          <option value={option}>{option || 'any'}</option>
        ))}
      </select>
    </label>
  );
}
