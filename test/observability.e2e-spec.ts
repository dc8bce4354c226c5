import type { AppProcess } from './support/app-process.js';
import { eventually } from './support/app-process.js';
import { startLiveStack, type LiveStack } from './support/live-stack.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

/**
 * Operating the processes: api, poller and detector started as in production against a throwaway
 * Redis and the simulated account. Each serves its own /metrics (prom-client defaults, build info,
 * its latency histograms after real work) with the cluster-wide totals on the api only; request
 * logs carry a request id end to end and leave probes out; readiness follows Redis.
 */
const ADMIN_KEY = 'e2e-observability-admin-key-0123456789';

type Samples = Map<string, number>;

/** `name{labels} value` lines of a scrape, keyed by `name{labels}`. */
function samples(text: string): Samples {
  const found = new Map<string, number>();
  for (const [, key, value] of text.matchAll(/^([a-z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/gm)) {
    found.set(key, Number(value));
  }
  return found;
}

/** Sum of a family's samples whose key matches `filter`. */
function total(found: Samples, name: string, filter = ''): number {
  let sum = 0;
  for (const [key, value] of found) if (key.split('{')[0] === name && key.includes(filter)) sum += value;
  return sum;
}

/** JSON log lines the process printed. */
function logLines(app: AppProcess): Record<string, unknown>[] {
  return app
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('observability: metrics, request logs and health of every process', () => {
  let live: LiveStack;
  let receiver: WebhookReceiver;
  let poller: AppProcess;
  let detector: AppProcess;

  const scrape = async (app: AppProcess) => {
    const response = await fetch(`http://127.0.0.1:${app.port}/metrics`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect([app.name, response.status]).toEqual([app.name, 200]);
    return response.text();
  };

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    receiver.respond({ kind: 'status', status: 500 });
    live = await startLiveStack({
      adminKey: ADMIN_KEY,
      seed: 1717,
      account: '111122223333',
      region: 'eu-west-1',
      backfillHours: 6,
    });
    [, poller, detector] = live.apps as [AppProcess, AppProcess, AppProcess];
  }, 90_000);

  afterAll(async () => {
    await live?.stop();
    await receiver?.close();
  });

  it('every process serves /metrics: defaults, build info and its histograms after real work', async () => {
    const created = await live.call('POST', '/v1/webhooks', { url: receiver.url, secret: 'whsec_observability' });
    expect(created.status).toBe(201);
    const ping = await live.call('POST', `/v1/webhooks/${created.body.id}/test`);
    expect(ping.status).toBe(200);

    // The poller back-fills 6 hours (LookupEvents requests), the detector evaluates every 5 s.
    const [pollerText, detectorText] = await eventually(
      'a LookupEvents request timed and an evaluation run',
      async () => {
        const [p, d] = await Promise.all([scrape(poller), scrape(detector)]);
        const ready =
          total(samples(p), 'trailsight_lookup_events_request_duration_seconds_count') > 0 &&
          total(samples(d), 'trailsight_evaluation_run_duration_seconds_count') > 0 &&
          total(samples(p), 'trailsight_backfill_progress_ratio') > 0;
        return ready ? [p, d] : undefined;
      },
    ).catch((error: Error) => live.withAppLogs(error));
    const apiText = await scrape(live.api);

    for (const [app, text] of [
      [live.api, apiText],
      [poller, pollerText],
      [detector, detectorText],
    ] as const) {
      const found = samples(text);
      expect([app.name, total(found, 'process_cpu_user_seconds_total') > 0]).toEqual([app.name, true]);
      expect([app.name, total(found, 'nodejs_heap_size_used_bytes') > 0]).toEqual([app.name, true]);
      expect([app.name, text]).toEqual([
        app.name,
        expect.stringMatching(/^trailsight_build_info\{version="\d+\.\d+\.\d+[^"]*",node_version="v\d+[^"]*"\} 1$/m),
      ]);
      for (const histogram of [
        'trailsight_http_request_duration_seconds',
        'trailsight_lookup_events_request_duration_seconds',
        'trailsight_evaluation_run_duration_seconds',
        'trailsight_webhook_delivery_duration_seconds',
      ]) {
        expect([app.name, text]).toEqual([app.name, expect.stringContaining(`# TYPE ${histogram} histogram`)]);
      }
    }
    const api = samples(apiText);
    // By route template, not by URL: the id is not in the label.
    expect(total(api, 'trailsight_http_request_duration_seconds_count', 'route="/v1/webhooks/:id/test"')).toBe(1);
    expect(apiText).not.toContain(`route="/v1/webhooks/${created.body.id}/test"`);
    expect(total(api, 'trailsight_webhook_delivery_duration_seconds_count', 'outcome="failed"')).toBe(1);
    expect(
      total(samples(pollerText), 'trailsight_lookup_events_request_duration_seconds_count', 'outcome="ok"'),
    ).toBeGreaterThan(0);

    // Cluster-wide totals from Redis: exported by the api alone, so sum() over every target counts them once.
    for (const family of ['trailsight_events_ingested_total', 'trailsight_queue_jobs', 'trailsight_insights_open']) {
      expect(apiText).toContain(`# TYPE ${family} `);
      expect(pollerText).not.toContain(family);
      expect(detectorText).not.toContain(family);
    }
    // The back-fill this poller runs, with its ETA once it has moved.
    const progress = total(samples(pollerText), 'trailsight_backfill_progress_ratio', 'source="lookup-events"');
    expect(progress).toBeGreaterThan(0);
    expect(progress).toBeLessThanOrEqual(1);
  }, 90_000);

  it('request logs: the id is honoured or made, returned, on every line of the request; probes unlogged', async () => {
    // A JSON body: the request's context survives body parsing.
    const create = await fetch(`http://127.0.0.1:${live.api.port}/v1/webhooks`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        'content-type': 'application/json',
        'x-request-id': 'e2e-obs-create-1',
      },
      body: JSON.stringify({ url: receiver.url, secret: 'whsec_observability' }),
    });
    expect([create.status, create.headers.get('x-request-id')]).toEqual([201, 'e2e-obs-create-1']);
    const created = (await create.json()) as { id: string };
    const ping = await fetch(`http://127.0.0.1:${live.api.port}/v1/webhooks/${created.id}/test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-request-id': 'e2e-obs-ping-1' },
    });
    expect([ping.status, ping.headers.get('x-request-id')]).toEqual([200, 'e2e-obs-ping-1']);
    const odd = await fetch(`http://127.0.0.1:${live.api.port}/v1/findings`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-request-id': 'not sane {"x":1}' },
    });
    const made = odd.headers.get('x-request-id') ?? '';
    expect(made).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    for (const path of ['/health/live', '/health/ready', '/metrics']) {
      await fetch(`http://127.0.0.1:${live.api.port}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    }
    await fetch(`http://127.0.0.1:${live.api.port}/health`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });

    const lines = await eventually('the request lines in the api log', () => {
      const all = logLines(live.api);
      return Promise.resolve(all.some((line) => line.reqId === made) ? all : undefined);
    });
    const ofPing = lines.filter((line) => line.reqId === 'e2e-obs-ping-1');
    // The failed attempt logged by the sender while handling the request, then the request itself.
    expect(ofPing).toEqual([
      expect.objectContaining({
        level: 'warn',
        context: 'WebhookSender',
        msg: expect.stringContaining('webhook ping'),
      }),
      expect.objectContaining({
        level: 'info',
        msg: 'request completed',
        req: expect.objectContaining({ id: 'e2e-obs-ping-1', method: 'POST' }),
        res: { statusCode: 200 },
      }),
    ]);
    expect(lines.filter((line) => line.reqId === 'e2e-obs-create-1')).toEqual([
      expect.objectContaining({
        level: 'info',
        context: 'WebhooksService',
        msg: expect.stringContaining('created for'),
      }),
      expect.objectContaining({ msg: 'request completed', res: { statusCode: 201 } }),
    ]);
    // Every line with an ISO time; the secret of the subscription nowhere.
    for (const line of lines) expect(new Date(String(line.time)).toISOString()).toBe(line.time);
    expect(live.api.output()).not.toContain('whsec_observability');
    expect(lines.find((line) => line.reqId === made)).toMatchObject({
      req: { url: '/v1/findings' },
      res: { statusCode: 200 },
    });
    const urls = lines.flatMap((line) => {
      const req = line.req as { url?: string } | undefined;
      return req?.url === undefined ? [] : [req.url];
    });
    expect(urls.filter((url) => /^\/(health|metrics)/.test(url))).toEqual([]);
  });

  it('/health details, /metrics and the log show the back-fill progress and ETA', async () => {
    const response = await fetch(`http://127.0.0.1:${poller.port}/health`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const body = (await response.json()) as { details: { backfill: { status: string; backfills: unknown[] } } };
    expect(body.details.backfill).toEqual({
      status: 'up',
      backfills: [
        expect.objectContaining({
          source: 'lookup-events',
          account: '111122223333',
          region: 'eu-west-1',
          done: expect.any(Boolean),
        }),
      ],
    });
    // A line every 15 s while it runs (6 hours at 25 requests/s take minutes), with an ETA once it moved.
    const line = await eventually(
      'a back-fill progress line',
      () =>
        Promise.resolve(
          logLines(poller).find(
            (entry) => entry.context === 'Backfill' && /back-fill \d+\.\d%, ETA \d/.test(String(entry.msg)),
          ),
        ),
      30_000,
    );
    expect(line.msg).toMatch(
      /^lookup-events 111122223333\/eu-west-1: back-fill \d+\.\d%, ETA [\dhms ]+ \(\d+ events read, \d+ enqueued\)$/,
    );
    const eta = total(samples(await scrape(poller)), 'trailsight_backfill_eta_seconds', 'region="eu-west-1"');
    expect(eta).toBeGreaterThan(0);
  }, 45_000);

  it('/health/live stays up while /health/ready turns 503 when Redis stops, on every process', async () => {
    const probe = async (app: AppProcess, path: string) =>
      (await fetch(`http://127.0.0.1:${app.port}${path}`).catch(() => undefined))?.status;
    await live.redis.stop({ keepData: true });
    try {
      for (const app of live.apps) {
        await eventually(
          `${app.name} not ready`,
          async () => ((await probe(app, '/health/ready')) === 503 ? true : undefined),
          15_000,
        );
        expect([app.name, await probe(app, '/health/live')]).toEqual([app.name, 200]);
      }
    } finally {
      await live.redis.restart();
    }
    for (const app of live.apps) {
      await eventually(
        `${app.name} ready again`,
        async () => ((await probe(app, '/health/ready')) === 200 ? true : undefined),
        30_000,
      );
    }
  }, 60_000);
});
