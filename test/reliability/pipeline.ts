import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { createSimulator, type Simulator } from '@trailsight/simulator';
import { type AccountRegion } from '@trailsight/domain';
import { KeySpace } from '@trailsight/core';
import { CounterRepository } from '@trailsight/detection';
import {
  describeDifference,
  expectedSeriesCounts,
  fetchTruth,
  storedSeriesCounts,
  type SeriesCounts,
} from '../support/ground-truth.js';
import { freePort, startRedis, type ThrowawayRedis } from '../support/redis-server.js';
import { launchApp, sleep, type AppName, type RunningApp } from './processes.js';

export const MINUTE = 60_000;

/** One simulated account behind the proxy, with its own clock. */
export interface SimulatedSource {
  label: string;
  accountId: string;
  regions: string[];
  /** Its clock minus the host's: > 0 records are timestamped in the host's future, < 0 in its past. */
  skewMs: number;
  simulator: Simulator;
  url: string;
}

export interface SourceSpec {
  label: string;
  accountId: string;
  regions: string[];
  eventsPerMinute: number;
  skewMs?: number;
}

export interface PipelineOptions {
  prefix: string;
  sources: SourceSpec[];
  backfillMinutes: number;
  apiKeys: { admin: string; read: string };
  env?: Record<string, string>;
}

export interface Comparison {
  expectedEvents: number;
  countedEvents: number;
  lost: number;
  doubleCounted: number;
  difference: string;
}

/**
 * One deployment under test: a throwaway Redis with AOF, simulated accounts (each its own clock)
 * behind a LookupEvents proxy that routes by the access key's account, and the poller, detector
 * and api processes. Every process ever started is kept, for crash counting and the log grep.
 */
export class Pipeline {
  readonly keys: KeySpace;
  readonly sources: SimulatedSource[] = [];
  readonly apps = new Map<string, RunningApp>();
  readonly everyProcess: RunningApp[] = [];
  redis!: ThrowawayRedis;
  client!: Redis;
  proxyUrl = '';
  startedAt = 0;
  private proxy?: Server;

  constructor(readonly options: PipelineOptions) {
    this.keys = new KeySpace(options.prefix);
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    this.redis = await startRedis({ appendOnly: true });
    this.client = new Redis(this.redis.url, { maxRetriesPerRequest: null });
    this.client.on('error', () => undefined);
    for (const spec of this.options.sources) {
      const skewMs = spec.skewMs ?? 0;
      const simulator = createSimulator({
        seed: 11,
        accounts: [spec.accountId],
        regions: spec.regions,
        eventsPerMinute: spec.eventsPerMinute,
        // The scenarios run on the wall clock: the same volume whatever the hour they run.
        rhythm: 'steady',
        rateLimit: 25,
        now: () => Date.now() + skewMs,
      });
      const { url } = await simulator.server.start(0);
      this.sources.push({
        label: spec.label,
        accountId: spec.accountId,
        regions: spec.regions,
        skewMs,
        simulator,
        url,
      });
    }
    this.proxyUrl = await this.startProxy();
  }

  /** LookupEvents for account N goes to the simulator of account N (the account is in the access key id). */
  private async startProxy(): Promise<string> {
    const route = (req: IncomingMessage): SimulatedSource | undefined => {
      const account = /AKIDSIM(\d{12})/.exec(String(req.headers.authorization ?? ''))?.[1];
      return this.sources.find((s) => s.accountId === account) ?? this.sources[0];
    };
    this.proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
      const target = new URL(route(req)!.url);
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('error', () => res.destroy());
        },
      );
      upstream.on('error', () => res.destroy());
      // A client giving up (timeout fault) closes its side: drop the upstream request with it.
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => this.proxy!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${port}`;
  }

  source(label: string): SimulatedSource {
    const found = this.sources.find((s) => s.label === label);
    if (!found) throw new Error(`no source ${label}`);
    return found;
  }

  accountRegions(): Array<AccountRegion & { source: SimulatedSource }> {
    return this.sources.flatMap((source) =>
      source.regions.map((region) => ({ accountId: source.accountId, region, source })),
    );
  }

  async env(): Promise<Record<string, string>> {
    return {
      PORT: String(await freePort()),
      REDIS_URL: this.redis.url,
      REDIS_PREFIX: this.options.prefix,
      LOG_LEVEL: 'log',
      API_KEYS: `${this.options.apiKeys.admin},${this.options.apiKeys.read}:read`,
      CLOUDTRAIL_SOURCE: 'simulator',
      CLOUDTRAIL_ENDPOINT: this.proxyUrl,
      AWS_ACCOUNTS: this.sources.map((s) => s.accountId).join(','),
      AWS_REGIONS: [...new Set(this.sources.flatMap((s) => s.regions))].join(','),
      LOOKUP_EVENTS_RATE: '20',
      POLL_INTERVAL_SECONDS: '1',
      POLL_OVERLAP_MINUTES: '3',
      BACKFILL_DAYS: String(this.options.backfillMinutes / 1440),
      ...this.options.env,
    };
  }

  async launch(app: AppName, label: string = app, extraEnv: Record<string, string> = {}): Promise<RunningApp> {
    const process = launchApp(app, label, { ...(await this.env()), ...extraEnv });
    this.apps.set(label, process);
    this.everyProcess.push(process);
    await process.healthy();
    return process;
  }

  app(label: string): RunningApp {
    const found = this.apps.get(label);
    if (!found) throw new Error(`no app ${label}`);
    return found;
  }

  crashes(): string[] {
    return this.everyProcess.filter((p) => p.crashed()).map((p) => p.name);
  }

  /** First minute every check covers: two minutes into the back-fill (its first minute may be partial). */
  since(): number {
    const start = this.startedAt - this.options.backfillMinutes * MINUTE;
    return Math.ceil(start / MINUTE) * MINUTE + 2 * MINUTE;
  }

  /** The last whole minute closed on both the host's and the source's clock, as its last millisecond. */
  closedUntil(source: SimulatedSource): number {
    const now = Math.min(Date.now(), Date.now() + source.skewMs) - 5_000;
    return Math.floor(now / MINUTE) * MINUTE - 1;
  }

  async compare(source: SimulatedSource, since: number, until: number): Promise<Comparison> {
    const rows = await fetchTruth(source.url, since, until);
    const expected = expectedSeriesCounts(rows.filter((row) => row.accountId === source.accountId));
    const counters = new CounterRepository(this.client, this.keys, {
      counterRetentionMinutes: 11_520,
      dedupeWindowMinutes: 1_440,
    });
    const stored: SeriesCounts = new Map();
    for (const region of source.regions) {
      const ar = { accountId: source.accountId, region };
      for (const [key, n] of storedSeriesCounts(ar, await counters.readMinutes(ar, since, until))) stored.set(key, n);
    }
    let lost = 0;
    let doubleCounted = 0;
    let expectedEvents = 0;
    let countedEvents = 0;
    for (const key of new Set([...expected.keys(), ...stored.keys()])) {
      const want = expected.get(key) ?? 0;
      const got = stored.get(key) ?? 0;
      expectedEvents += want;
      countedEvents += got;
      if (got < want) lost += want - got;
      else doubleCounted += got - want;
    }
    return { expectedEvents, countedEvents, lost, doubleCounted, difference: describeDifference(expected, stored, 4) };
  }

  /**
   * Waits until every source's counters equal its truth over [since, closed minute], then
   * re-checks after a few more overlapping polls. Returns the final comparison per source
   * (lost/double are what remained when time ran out).
   */
  async waitExact(timeoutMs: number, labels?: string[]): Promise<Map<string, Comparison>> {
    const sources = this.sources.filter((s) => !labels || labels.includes(s.label));
    const windows = new Map(sources.map((s) => [s.label, this.closedUntil(s)]));
    const deadline = Date.now() + timeoutMs;
    const results = new Map<string, Comparison>();
    for (let exactRounds = 0; ;) {
      let exact = true;
      for (const source of sources) {
        const comparison = await this.compare(source, this.since(), windows.get(source.label)!);
        results.set(source.label, comparison);
        if (comparison.lost + comparison.doubleCounted > 0) exact = false;
      }
      exactRounds = exact ? exactRounds + 1 : 0;
      if (exactRounds >= 2) return results;
      if (!exact && Date.now() > deadline) return results;
      await sleep(exact ? 2_500 : 1_000);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.everyProcess.map((p) => p.stop('SIGKILL')));
    await new Promise<void>((resolve) => (this.proxy ? this.proxy.close(() => resolve()) : resolve()));
    this.proxy?.closeAllConnections();
    await Promise.all(this.sources.map((s) => s.simulator.server.stop()));
    this.client?.disconnect();
    await this.redis?.stop();
  }
}
