import { Redis } from 'ioredis';
import { createSimulator, type Simulator } from '@trailsight/simulator';
import { startApp, type AppProcess } from './app-process.js';
import { freePort, startRedis, type ThrowawayRedis } from './redis-server.js';

/** What a live end-to-end test needs: one simulated account-region and how fast to read it. */
export interface LiveStackOptions {
  adminKey: string;
  /** Simulator seed: each spec its own, so their traffic differs. */
  seed: number;
  account: string;
  region: string;
  /** LookupEvents requests per second, at the simulator and the poller alike. */
  lookupRate?: number;
  /** History back-filled before the live tail. */
  backfillHours?: number;
  /** Calls per minute of the simulated account (default 600). */
  eventsPerMinute?: number;
  /** A checkout whose dist/ runs the processes (default this one): another build to compare against. */
  appsRoot?: string;
  /** Settings beyond the shared ones (catch-up age, SECRETS_KEY...). */
  env?: Record<string, string>;
  /** Before anything is served: the place to plant anomalies in the back-filled history. */
  beforeServe?: (simulator: Simulator) => void;
  /** Once the api answers, before poller and detector start (subscriptions that must see the back-fill). */
  beforeWorkers?: (stack: LiveStack) => Promise<void>;
}

/** A throwaway Redis, the simulated account, and api, poller and detector as separate processes. */
export interface LiveStack {
  redis: ThrowawayRedis;
  client: Redis;
  simulator: Simulator;
  simulatorUrl: string;
  api: AppProcess;
  /** Every process started, the api first. */
  apps: AppProcess[];
  /** An API call with the admin key; the JSON body as `any`, checked field by field by the tests. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Rethrows a failed wait with what the processes said lately. */
  withAppLogs(error: Error): never;
  stop(): Promise<void>;
}

/**
 * Starts the whole pipeline against the simulated account with timings that make insights show
 * within minutes: 600 events a minute at a steady rhythm (the processes read the wall clock, so
 * the volume must not depend on the hour CI runs), 5 s evaluations, 2 minutes to end an insight.
 */
export async function startLiveStack(options: LiveStackOptions): Promise<LiveStack> {
  const lookupRate = options.lookupRate ?? 25;
  const redis = await startRedis();
  const client = new Redis(redis.url);
  const simulator = createSimulator({
    seed: options.seed,
    accounts: [options.account],
    regions: [options.region],
    eventsPerMinute: options.eventsPerMinute ?? 600,
    rhythm: 'steady',
    rateLimit: lookupRate,
  });
  options.beforeServe?.(simulator);
  const simulatorUrl = (await simulator.server.start(0)).url;
  const env = async (): Promise<Record<string, string>> => ({
    PORT: String(await freePort()),
    REDIS_URL: redis.url,
    API_KEYS: options.adminKey,
    LOG_LEVEL: 'log',
    CLOUDTRAIL_SOURCE: 'simulator',
    CLOUDTRAIL_ENDPOINT: simulatorUrl,
    AWS_ACCOUNTS: options.account,
    AWS_REGIONS: options.region,
    LOOKUP_EVENTS_RATE: String(lookupRate),
    POLL_INTERVAL_SECONDS: '2',
    POLL_OVERLAP_MINUTES: '2',
    BACKFILL_DAYS: String((options.backfillHours ?? 2) / 24),
    EVALUATION_INTERVAL_SECONDS: '5',
    EVALUATION_LATENESS_SECONDS: '5',
    DETECTOR_END_AFTER_MINUTES: '2',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_BACKOFF_MS: '500',
    ...options.env,
  });

  const api = startApp('api', await env(), options.appsRoot);
  const apps = [api];
  const stack: LiveStack = {
    redis,
    client,
    simulator,
    simulatorUrl,
    api,
    apps,
    async call(method, path, body) {
      const response = await fetch(`http://127.0.0.1:${api.port}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.adminKey}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    },
    withAppLogs(error) {
      const tail = (app: AppProcess) =>
        `--- ${app.name}, last lines:\n${app.output().split('\n').slice(-30).join('\n')}`;
      throw new Error(`${error.message}\n${apps.map(tail).join('\n')}`);
    },
    async stop() {
      await Promise.all(apps.map((app) => app.stop()));
      await client.quit();
      await simulator.server.stop();
      await redis.stop();
    },
  };
  await api.healthy();
  await options.beforeWorkers?.(stack);
  apps.push(startApp('poller', await env(), options.appsRoot), startApp('detector', await env(), options.appsRoot));
  await Promise.all(apps.map((app) => app.healthy()));
  return stack;
}
