import type { SimulatedAnomaly } from '@trailsight/simulator';
import { startWebhookReceiver, type Behaviour, type WebhookReceiver } from '../support/webhook-receiver.js';
import { MINUTE, type Comparison, type Pipeline, type SimulatedSource } from './pipeline.js';
import { http, sleep, waitFor } from './processes.js';
import { check, type Figures, type Report } from './report.js';

/** An anomaly injected through POST /anomalies, and the finding it must produce exactly once. */
export interface ExpectedInsight {
  label: string;
  source: SimulatedSource;
  region: string;
  anomaly: SimulatedAnomaly;
  insightType: 'ApiCallRateInsight' | 'ApiErrorRateInsight';
}

interface FindingItem {
  id: string;
  startTime: string;
  state: string;
  errorCode?: string;
  direction: string;
}

export function authHeaders(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return http(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** A write (spike) or read (errors) API of the source running at 2-40 calls a minute now. */
function pickApi(
  source: SimulatedSource,
  region: string,
  readOnly: boolean,
  exclude: string[],
): { eventSource: string; eventName: string } {
  const now = Date.now() + source.skewMs;
  const ar = { accountId: source.accountId, region };
  const candidates = source.simulator.generator
    .apis()
    .filter((api) => api.readOnly === readOnly && !exclude.includes(api.eventName))
    .map((api) => ({ ...api, rate: source.simulator.generator.expectedCalls(ar, api.eventSource, api.eventName, now) }))
    .filter((api) => api.rate >= 2 && api.rate <= 40)
    .sort((a, b) => b.rate - a.rate);
  const api = candidates[0];
  if (!api) throw new Error(`no API at 2-40 calls/min on ${source.label}`);
  return { eventSource: api.eventSource, eventName: api.eventName };
}

export async function injectAnomaly(
  label: string,
  source: SimulatedSource,
  region: string,
  kind: 'spike' | 'errors',
  exclude: string[],
): Promise<ExpectedInsight> {
  const api = pickApi(source, region, kind === 'errors', exclude);
  const response = await postJson(`${source.url}/anomalies`, {
    kind,
    ...api,
    factor: kind === 'spike' ? 20 : 15,
    ...(kind === 'errors' ? { errorCode: 'AccessDenied' } : {}),
    minutes: 2,
    accountId: source.accountId,
    region,
  });
  check(response.status === 201, `POST /anomalies: ${response.status} ${response.text}`);
  return {
    label,
    source,
    region,
    anomaly: JSON.parse(response.text) as SimulatedAnomaly,
    insightType: kind === 'spike' ? 'ApiCallRateInsight' : 'ApiErrorRateInsight',
  };
}

/** The findings the API serves for an injected anomaly (its API, starting inside its minutes). */
export async function findingsFor(apiUrl: string, key: string, expected: ExpectedInsight): Promise<FindingItem[]> {
  const query = new URLSearchParams({
    accountId: expected.source.accountId,
    region: expected.region,
    eventSource: expected.anomaly.eventSource,
    eventName: expected.anomaly.eventName,
    insightType: expected.insightType,
    limit: '50',
  });
  const response = await http(`${apiUrl}/v1/findings?${query.toString()}`, { headers: authHeaders(key) });
  if (response.status !== 200) throw new Error(`GET /v1/findings: ${response.status} ${response.text}`);
  const { items } = JSON.parse(response.text) as { items: FindingItem[] };
  const from = Date.parse(expected.anomaly.startTime);
  const to = Date.parse(expected.anomaly.endTime);
  return items.filter((item) => {
    const start = Date.parse(item.startTime);
    return (
      start >= from &&
      start < to &&
      (expected.insightType === 'ApiErrorRateInsight' ? item.errorCode === 'AccessDenied' : item.direction === 'spike')
    );
  });
}

function recordComparisons(figures: Figures, comparisons: Map<string, Comparison>): string[] {
  const problems: string[] = [];
  let events = 0;
  let lost = 0;
  let double = 0;
  for (const [label, c] of comparisons) {
    events += c.expectedEvents;
    lost += c.lost;
    double += c.doubleCounted;
    if (c.lost + c.doubleCounted > 0) problems.push(`${label}: ${c.difference}`);
  }
  figures.events = events;
  figures.lost = lost;
  figures.double = double;
  return problems;
}

/** Counters equal to the truth so far, and every process we did not kill still healthy. */
async function expectExact(pipeline: Pipeline, figures: Figures, labels?: string[]): Promise<void> {
  const comparisons = await pipeline.waitExact(150_000, labels);
  const problems = recordComparisons(figures, comparisons);
  const crashed = pipeline.crashes();
  figures.crashes = crashed.length;
  check(crashed.length === 0, `crashed: ${crashed.join(', ')}`);
  check(problems.length === 0, `counters differ from the ground truth: ${problems.join(' | ')}`);
}

async function simulatorStats(
  source: SimulatedSource,
): Promise<{ throttled: number; faulted: number; errors: number }> {
  const response = await http(`${source.url}/stats`);
  const { sources } = JSON.parse(response.text) as {
    sources: Array<{ throttled: number; faulted: number; errors: number }>;
  };
  return sources.reduce(
    (sum, s) => ({
      throttled: sum.throttled + s.throttled,
      faulted: sum.faulted + s.faulted,
      errors: sum.errors + s.errors,
    }),
    { throttled: 0, faulted: 0, errors: 0 },
  );
}

export interface FaultContext {
  apiUrl: string;
  adminKey: string;
  readKey: string;
  insights: ExpectedInsight[];
  receiver: WebhookReceiver;
  subscriptionId: string;
  webhookSecret: string;
}

/**
 * Sets up the webhook subscriber (down at first, then erroring, hanging and slow) and injects
 * one anomaly per simulated account, before the faults begin: each must come out as exactly one
 * finding whatever happens to the processes in between.
 */
export async function prepareFaults(
  pipeline: Pipeline,
  apiUrl: string,
  adminKey: string,
  readKey: string,
): Promise<FaultContext> {
  const webhookSecret = 'whsec-reliability-0123456789abcdef';
  const receiver = await startWebhookReceiver({ secret: webhookSecret });
  await receiver.down();
  const normal = pipeline.source('normal');
  const insights = [
    await injectAnomaly('spike', normal, normal.regions[0], 'spike', []),
    await injectAnomaly(
      'future-clock-spike',
      pipeline.source('future'),
      pipeline.source('future').regions[0],
      'spike',
      [],
    ),
    await injectAnomaly('past-clock-errors', pipeline.source('past'), pipeline.source('past').regions[0], 'errors', []),
  ];
  const created = await postJson(
    `${apiUrl}/v1/webhooks`,
    {
      url: receiver.url,
      secret: webhookSecret,
      events: ['insight.start', 'insight.end'],
      filter: { accountId: [normal.accountId], eventName: [insights[0].anomaly.eventName] },
      description: 'reliability receiver',
    },
    authHeaders(adminKey),
  );
  check(created.status === 201, `POST /v1/webhooks: ${created.status} ${created.text}`);
  const subscriptionId = (JSON.parse(created.text) as { id: string }).id;
  return { apiUrl, adminKey, readKey, insights, receiver, subscriptionId, webhookSecret };
}

export async function runFaultScenarios(report: Report, pipeline: Pipeline): Promise<void> {
  const normal = pipeline.source('normal');

  await report.scenario('faults/lookup-events-500-throttle-timeout-truncate', async (figures) => {
    const before = await simulatorStats(normal);
    for (const [kind, count] of [
      ['error500', 8],
      ['throttle', 8],
      ['truncate', 6],
      ['timeout', 2],
      ['bad-records', 3],
    ] as const) {
      const response = await postJson(`${normal.url}/faults`, { kind, count, accountId: normal.accountId });
      check(response.status < 300, `POST /faults ${kind}: ${response.status} ${response.text}`);
    }
    await waitFor(
      'every injected LookupEvents fault to be served',
      async () => {
        const pending = JSON.parse((await http(`${normal.url}/faults`)).text) as { faults?: unknown[] } | unknown[];
        const list = Array.isArray(pending) ? pending : (pending.faults ?? []);
        return list.length === 0 ? true : undefined;
      },
      90_000,
    );
    const after = await simulatorStats(normal);
    figures.faulted = after.faulted - before.faulted + after.errors - before.errors;
    figures.throttled = after.throttled - before.throttled;
    await expectExact(pipeline, figures);
    const rejects = await pipeline.client.hgetall(pipeline.keys.rejectCounts());
    figures.rejects_parked = Object.values(rejects).reduce((sum, n) => sum + Number(n), 0);
    check(
      figures.faulted >= 19 && figures.throttled >= 8,
      `only ${figures.faulted} faults and ${figures.throttled} throttles served`,
    );
  });

  await report.scenario('faults/redis-restart-mid-ingest-aof', async (figures) => {
    await sleep(500 + Math.random() * 1500);
    const down = Date.now();
    await pipeline.redis.restart();
    figures.restart_ms = Date.now() - down;
    await Promise.all(['poller', 'detector', 'api'].map((label) => pipeline.app(label).healthy(60_000)));
    figures.recovered_ms = Date.now() - down;
    await expectExact(pipeline, figures);
  });

  for (const label of ['detector', 'poller'] as const) {
    await report.scenario(`faults/${label}-sigkill-at-random-point`, async (figures) => {
      const delay = Math.round(200 + Math.random() * 3000);
      figures.killed_after_ms = delay;
      await sleep(delay);
      await pipeline.app(label).stop('SIGKILL');
      await pipeline.launch(label);
      await expectExact(pipeline, figures);
    });
  }
}

/** After the faults: each anomaly found once, and the spike delivered once to the troubled subscriber. */
export async function runInsightScenarios(report: Report, ctx: FaultContext): Promise<void> {
  // The subscriber comes back once the spike's finding exists (its deliveries so far were refused),
  // then answers 500, hangs past WEBHOOK_TIMEOUT_MS, answers 503, and only then accepts, slowly.
  const spike = ctx.insights[0];
  const sequence: Behaviour[] = [{ kind: 'status', status: 500 }, { kind: 'hang' }, { kind: 'status', status: 503 }];
  ctx.receiver.respond((n) => sequence[n] ?? { kind: 'slow', delayMs: 400 });

  await report.scenario('faults/insights-exactly-once-through-faults', async (figures) => {
    const found = new Map<string, FindingItem[]>();
    await waitFor(
      'a finding for every injected anomaly',
      async () => {
        for (const insight of ctx.insights)
          found.set(insight.label, await findingsFor(ctx.apiUrl, ctx.readKey, insight));
        if ((found.get('spike')?.length ?? 0) > 0 && ctx.receiver.port > 0)
          await ctx.receiver.up().catch(() => undefined);
        return [...found.values()].every((items) => items.length > 0) ? true : undefined;
      },
      300_000,
      2_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${[...found].map(([k, v]) => `${k}=${v.length}`).join(' ')}`);
    });
    // More evaluator runs must not add a second one.
    await sleep(4_000);
    for (const insight of ctx.insights) {
      const items = await findingsFor(ctx.apiUrl, ctx.readKey, insight);
      figures[insight.label] = items.length;
      check(
        items.length === 1,
        `${insight.label}: ${items.length} findings for one anomaly (${JSON.stringify(items)})`,
      );
    }
  });

  await report.scenario('faults/webhook-receiver-down-erroring-hanging-slow', async (figures) => {
    const [finding] = await findingsFor(ctx.apiUrl, ctx.readKey, spike);
    check(finding !== undefined, 'no finding for the spike');
    await ctx.receiver.up().catch(() => undefined);
    const starts = () =>
      ctx.receiver.accepted().filter((r) => r.event === 'insight.start' && r.body.detail.sharedEventID === finding.id);
    await ctx.receiver.waitFor('the spike insight.start accepted', () => starts().length > 0, 120_000);
    await sleep(3_000);
    const accepted = starts();
    figures.requests = ctx.receiver.requests.length;
    figures.accepted_starts = accepted.length;
    figures.signature_valid = accepted.every((r) => r.signatureValid);
    check(accepted.length === 1, `insight.start accepted ${accepted.length} times`);
    check(accepted[0].signatureValid, 'signature did not verify');
    const refusedAttempts = ctx.receiver.requests.filter(
      (r) => r.answered !== 200 && r.deliveryId === accepted[0].deliveryId,
    );
    figures.failed_attempts_seen = refusedAttempts.length;
    const log = await http(`${ctx.apiUrl}/v1/webhooks/${ctx.subscriptionId}/deliveries?limit=50`, {
      headers: authHeaders(ctx.adminKey),
    });
    check(log.status === 200, `deliveries log: ${log.status}`);
    const attempts = JSON.parse(log.text) as { items?: unknown[] } | unknown[];
    figures.logged_attempts = Array.isArray(attempts) ? attempts.length : (attempts.items?.length ?? 0);
    check(figures.logged_attempts >= 2, 'failed attempts are not in the delivery log');
  });
}

/** The clock-skew scenarios: their sources' counters exact and their anomalies found once (checked above). */
export async function runClockSkewScenarios(report: Report, pipeline: Pipeline, ctx: FaultContext): Promise<void> {
  for (const label of ['future', 'past'] as const) {
    const source = pipeline.source(label);
    const insight = ctx.insights.find((i) => i.source === source)!;
    await report.scenario(`faults/clock-skew-${label}-${Math.abs(source.skewMs / 1000)}s`, async (figures) => {
      figures.skew_s = source.skewMs / 1000;
      await expectExact(pipeline, figures, [label]);
      const items = await findingsFor(ctx.apiUrl, ctx.readKey, insight);
      figures.findings = items.length;
      check(items.length === 1, `${items.length} findings for the anomaly`);
      figures.start_minute_matches = items[0].startTime.slice(0, 16) === insight.anomaly.startTime.slice(0, 16);
    });
  }
}

export { MINUTE };
