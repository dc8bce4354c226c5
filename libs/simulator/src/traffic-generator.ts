import { type AccountRegion, type CloudTrailRecord, DAY_MS, MINUTE_MS } from '@trailsight/domain';
import { accountRegionOf, eventTimeMs, inferReadOnly } from '@trailsight/cloudtrail';
import {
  parseAnomalyRequest,
  type SimulatedAnomaly,
  type AnomalyRequest,
  type AnomalySpec,
  AnomalyValidationError,
} from './anomaly.js';
import { apiDef, catalogApis, SERVICES, type ApiDef, type ServiceDef } from './api-catalog.js';
import {
  DATA_APIS,
  DATA_ERROR_RATE,
  dataApiOf,
  dataRecord,
  pickDataApi,
  pickDataError,
  type DataApi,
} from './data-events.js';
import { identityPool, type SimIdentity } from './identity-pool.js';
import { LruCache } from './lru-cache.js';
import { AliasTable, Rng, hashString, shuffled, zipfWeights } from './random.js';

export interface TrafficGeneratorOptions {
  seed: number;
  /** 12-digit account ids. */
  accounts: readonly string[];
  regions: readonly string[];
  /** Calls per minute per account-region at the busiest time (weekdays 15:00 UTC). */
  eventsPerMinute: number;
  /**
   * 'daily' (default): volume follows trafficRhythm, like a real account. 'steady': every minute at
   * eventsPerMinute, for tests on the wall clock whose volume must not depend on the hour they run.
   */
  rhythm?: 'daily' | 'steady';
  /** How many catalog APIs are in use (default 300, at most the catalog's size). */
  apiCount?: number;
  /** Share of calls that fail (default 0.03). */
  errorRate?: number;
  /** Anomalies scheduled from the start. */
  anomalies?: readonly AnomalySpec[];
  /** False: no generated traffic, only replayed records (and anomalies). Default true. */
  generate?: boolean;
  /** The clock `replay(..., { shiftTo: 'now' })` reads. Default Date.now. */
  now?: () => number;
  /** Upper bound on events held in the cache of recent minutes (default 100,000, some 30 MB). */
  cacheEvents?: number;
  /**
   * Data events (S3 object calls, Lambda invocations) per minute per account-region at the
   * busiest time, served by dataEventsForMinute, never by LookupEvents. Default 0: none, and
   * every other output exactly as without the option.
   */
  dataEventsPerMinute?: number;
}

/** One minute of one account-region's history. Shared and cached: never mutate it. */
export interface GeneratedMinute {
  readonly source: AccountRegion;
  readonly minuteMs: number;
  /** Oldest first; events of the same second in eventID order. */
  readonly records: readonly CloudTrailRecord[];
  /** eventTime of each record, epoch ms. */
  readonly times: Float64Array;
}

export interface TrafficReplayOptions {
  /** Where the newest record lands; the others keep their spacing. Default 'now'. */
  shiftTo?: 'now' | Date | number;
  /** Stop generated traffic, so only replayed records (and anomalies) are served. */
  replaceGenerated?: boolean;
  /** Serve every record under this account (default: the record's own, see accountRegionOf). */
  accountId?: string;
  /** Serve every record under this region (default: the record's awsRegion). */
  region?: string;
}

export interface TrafficReplayResult {
  added: number;
  /** Records whose eventID was already replayed for the same account-region (Event history holds one copy). */
  duplicates: number;
  /** Records without a valid eventTime, or of an account-region not served. */
  skipped: number;
  /** How far the records were moved, ms. */
  shiftMs: number;
}

export interface SimulatedApi {
  eventSource: string;
  eventName: string;
  readOnly: boolean;
}

const DEFAULT_API_COUNT = 300;
const ZIPF_EXPONENT = 1;
/** Writes are rarer than reads in every real account; this keeps most traffic reads. */
const WRITE_WEIGHT = 0.3;
const ROOT_SHARE = 0.001;
const TLS_VERSIONS = ['TLSv1.3', 'TLSv1.2'];

interface SourceModel {
  source: AccountRegion;
  key: string;
  hash: number;
  /** Undefined when no API is called in this region (e.g. only global services, outside us-east-1). */
  alias?: AliasTable;
  share: Float64Array;
  errorProb: Float64Array;
  identities: SimIdentity[];
  /** Picks among identities[0 .. length-2]; the root user (last) is picked separately. */
  identityAlias: AliasTable;
  params: Map<ServiceDef, ReadonlyArray<Record<string, unknown>>>;
  tls: Map<string, Readonly<NonNullable<CloudTrailRecord['tlsDetails']>>>;
}

interface Entry {
  t: number;
  r: CloudTrailRecord;
}

interface ScheduledAnomaly {
  anomaly: SimulatedAnomaly;
  startMs: number;
  endMs: number;
  hash: number;
  api: ApiDef;
  /** Set when the API is a data API: the anomaly shapes data events (dataEventsForMinute) only. */
  data?: DataApi;
}

/** Salt of the data events' random stream: management traffic never depends on them. */
const DATA_STREAM = 0x5d47a11;
const DATA_WEIGHT_TOTAL = DATA_APIS.reduce((sum, api) => sum + api.weight, 0);

/**
 * Deterministic, lazily generated CloudTrail management traffic for a set of account-regions.
 *
 * Each minute of each account-region is a pure function of (seed, account, region, minute) plus
 * the anomalies and replayed records that cover it: generated on demand, in any order, and the
 * same every time. Popularity is Zipf-skewed over the APIs (a seeded order per account), volume
 * follows a daily rhythm (peak at 15:00 UTC, trough at 03:00 UTC) and a weekly one (weekends at
 * 35%) unless the rhythm is 'steady', counts are Poisson around the expectation, and a few
 * percent of calls fail with the service's own error codes. Global services (IAM, Route 53, Organizations) appear in us-east-1
 * only, as AWS records them.
 */
export class TrafficGenerator {
  readonly seed: number;
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  readonly eventsPerMinute: number;
  readonly errorRate: number;
  readonly dataEventsPerMinute: number;

  private readonly accountSet: Set<string>;
  private readonly regionSet: Set<string>;
  private readonly apiList: ApiDef[];
  private readonly apiIndex = new Map<string, number>();
  private readonly now: () => number;
  private readonly models = new Map<string, SourceModel>();
  private readonly identities = new Map<string, SimIdentity[]>();
  private readonly cache: LruCache<GeneratedMinute>;
  private readonly scheduled: ScheduledAnomaly[] = [];
  /** source key -> minute -> replayed entries */
  private readonly replayed = new Map<string, Map<number, Entry[]>>();
  private readonly replayedIds = new Map<string, Set<string>>();
  private generate: boolean;
  private readonly rhythm: (epochMs: number) => number;

  constructor(options: TrafficGeneratorOptions) {
    const { seed, accounts, regions, eventsPerMinute } = options;
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    if (accounts.length === 0 || accounts.some((id) => !/^\d{12}$/.test(id))) {
      throw new RangeError(`accounts must be 12-digit account ids, got ${JSON.stringify(accounts)}`);
    }
    if (regions.length === 0 || regions.some((r) => !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(r))) {
      throw new RangeError(`regions must look like us-east-1, got ${JSON.stringify(regions)}`);
    }
    if (!(eventsPerMinute >= 0) || !Number.isFinite(eventsPerMinute)) {
      throw new RangeError(`eventsPerMinute must be a number >= 0, got ${eventsPerMinute}`);
    }
    if (options.rhythm !== undefined && options.rhythm !== 'daily' && options.rhythm !== 'steady') {
      throw new RangeError(`rhythm must be 'daily' or 'steady', got ${JSON.stringify(options.rhythm)}`);
    }
    const errorRate = options.errorRate ?? 0.03;
    if (!(errorRate >= 0 && errorRate <= 0.5))
      throw new RangeError(`errorRate must be from 0 to 0.5, got ${errorRate}`);
    const dataEventsPerMinute = options.dataEventsPerMinute ?? 0;
    if (!(dataEventsPerMinute >= 0) || !Number.isFinite(dataEventsPerMinute)) {
      throw new RangeError(`dataEventsPerMinute must be a number >= 0, got ${dataEventsPerMinute}`);
    }
    const apiCount = options.apiCount ?? DEFAULT_API_COUNT;
    if (!Number.isInteger(apiCount) || apiCount < 1) throw new RangeError(`apiCount must be a whole number >= 1`);

    this.seed = seed;
    this.accounts = [...accounts];
    this.regions = [...regions];
    this.accountSet = new Set(accounts);
    this.regionSet = new Set(regions);
    this.eventsPerMinute = eventsPerMinute;
    this.errorRate = errorRate;
    this.dataEventsPerMinute = dataEventsPerMinute;
    this.generate = options.generate ?? true;
    this.rhythm = options.rhythm === 'steady' ? () => 1 : trafficRhythm;
    this.now = options.now ?? Date.now;
    this.cache = new LruCache<GeneratedMinute>(options.cacheEvents ?? 100_000, (m) => m.records.length);

    // A seeded subset of the catalog, kept in catalog order.
    const catalog = catalogApis();
    const chosen = new Set(shuffled(catalog, new Rng(hashString('apis', seed))).slice(0, apiCount));
    this.apiList = catalog.filter((api) => chosen.has(api));
    this.apiList.forEach((api, i) => this.apiIndex.set(apiKey(api.eventSource, api.eventName), i));

    for (const spec of options.anomalies ?? []) this.injectAnomaly(spec);
  }

  /** Every account-region served. */
  sources(): AccountRegion[] {
    return this.accounts.flatMap((accountId) => this.regions.map((region) => ({ accountId, region })));
  }

  serves(source: AccountRegion): boolean {
    return this.accountSet.has(source.accountId) && this.regionSet.has(source.region);
  }

  /** The APIs in use. */
  apis(): SimulatedApi[] {
    return this.apiList.map(({ eventSource, eventName, readOnly }) => ({ eventSource, eventName, readOnly }));
  }

  /** The model's expected calls per minute of one API at one minute (before anomalies and replays). */
  expectedCalls(source: AccountRegion, eventSource: string, eventName: string, minuteMs: number): number {
    const index = this.apiIndex.get(apiKey(eventSource, eventName));
    return index === undefined ? 0 : this.expected(this.model(source), index, floorMinute(minuteMs));
  }

  /** The events of one minute (oldest first). The same every time for the same inputs. */
  eventsForMinute(source: AccountRegion, minuteEpochMs: number): readonly CloudTrailRecord[] {
    return this.minute(source, minuteEpochMs).records;
  }

  /** One minute with its event times, from the cache of recent minutes or generated now. */
  minute(source: AccountRegion, minuteEpochMs: number): GeneratedMinute {
    const minuteMs = floorMinute(minuteEpochMs);
    const key = `${source.accountId}/${source.region}/${minuteMs}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const built = this.build(this.model(source), minuteMs);
    this.cache.set(key, built);
    return built;
  }

  /**
   * Schedules an anomaly (see anomaly.ts for the rule). `startMinute` is rounded up to a whole
   * minute. The generator does not know what was served: callers that serve history (the
   * SimulatedAccount) only schedule anomalies after the last minute they may have served.
   */
  injectAnomaly(spec: AnomalySpec): SimulatedAnomaly {
    const request = parseAnomalyRequest(spec, { accounts: this.accounts, regions: this.regions }, ['startMinute']);
    const start = spec.startMinute instanceof Date ? spec.startMinute.getTime() : spec.startMinute;
    if (typeof start !== 'number' || !Number.isFinite(start)) {
      throw new AnomalyValidationError('startMinute', 'startMinute must be epoch milliseconds or a Date');
    }
    const startMs = Math.ceil(start / MINUTE_MS) * MINUTE_MS;
    const endMs = startMs + request.minutes * MINUTE_MS;
    const id = new Rng(hashString(`anomaly/${this.scheduled.length}`, this.seed)).uuid();
    const anomaly: SimulatedAnomaly = {
      id,
      ...request,
      startTime: new Date(startMs).toISOString(),
      endTime: new Date(endMs).toISOString(),
    };
    const data = dataApiOf(request.eventSource, request.eventName);
    this.scheduled.push({
      anomaly,
      startMs,
      endMs,
      hash: hashString(id, this.seed),
      api: this.resolveApi(request),
      ...(data ? { data } : {}),
    });
    this.cache.deleteWhere((m) => m.minuteMs >= startMs && m.minuteMs < endMs && covers(request, m.source));
    return { ...anomaly };
  }

  /**
   * The data events of one minute (oldest first), as a trail logging data events holds them
   * besides eventsForMinute: none unless dataEventsPerMinute > 0 or an anomaly names a data API
   * (data-events.ts). The same every time for the same inputs; not cached.
   */
  dataEventsForMinute(source: AccountRegion, minuteEpochMs: number): CloudTrailRecord[] {
    const minuteMs = floorMinute(minuteEpochMs);
    const model = this.model(source);
    const times = new EventTimes(minuteMs);
    const entries: Entry[] = [];
    const rate = this.generate ? this.dataEventsPerMinute * this.rhythm(minuteMs) : 0;
    const others = model.identities.length - 1;
    if (rate > 0) {
      const rng = new Rng(model.hash ^ DATA_STREAM, minuteMs / MINUTE_MS);
      const count = rng.poisson(rate);
      for (let i = 0; i < count; i++) {
        const api = pickDataApi(rng);
        const identity = model.identities[model.identityAlias.pick(rng) % others];
        const second = rng.int(60);
        const errorCode = rng.float() < DATA_ERROR_RATE ? pickDataError(api, rng) : undefined;
        entries.push({
          t: times.ms(second),
          r: dataRecord(api, model.source, identity, rng, times.at(second), errorCode),
        });
      }
    }
    for (const scheduled of this.scheduled) {
      const { anomaly, data } = scheduled;
      if (!data || minuteMs < scheduled.startMs || minuteMs >= scheduled.endMs || !covers(anomaly, model.source)) {
        continue;
      }
      const matches = (entry: Entry) =>
        entry.r.eventName === data.eventName && entry.r.eventSource === data.eventSource;
      if (anomaly.kind === 'drop') {
        const kept = entries.filter((entry) => !matches(entry));
        entries.length = 0;
        entries.push(...kept);
        continue;
      }
      // As applyAnomaly: its own random stream, one caller with an arn.
      const rng = new Rng(scheduled.hash ^ model.hash ^ DATA_STREAM, minuteMs / MINUTE_MS);
      const expected = (rate * data.weight) / DATA_WEIGHT_TOTAL;
      const target = rng.poisson((anomaly.factor ?? 1) * Math.max(expected, 1));
      const extra = anomaly.kind === 'errors' ? target : target - entries.filter(matches).length;
      const candidates = model.identities.filter((identity) => identity.arn && identity.userIdentity.type !== 'Root');
      const identity = candidates[scheduled.hash % candidates.length];
      for (let i = 0; i < extra; i++) {
        const second = rng.int(60);
        const record = dataRecord(data, model.source, identity, rng, times.at(second), anomaly.errorCode);
        entries.push({ t: times.ms(second), r: record });
      }
    }
    entries.sort(byTimeThenId);
    return entries.map((entry) => entry.r);
  }

  /** Every anomaly scheduled, oldest first. */
  anomalies(): SimulatedAnomaly[] {
    return this.scheduled.map(({ anomaly }) => ({ ...anomaly }));
  }

  /**
   * Serves trail records moved in time so the newest lands at `shiftTo` (default now), keeping
   * their spacing (to the second; eventTime keeps second precision). They are served in addition
   * to generated traffic unless `replaceGenerated`. Minutes they land in change, as with late
   * delivery: replay at start-up to keep served history stable.
   */
  replay(records: readonly CloudTrailRecord[], options: TrafficReplayOptions = {}): TrafficReplayResult {
    const result: TrafficReplayResult = { added: 0, duplicates: 0, skipped: 0, shiftMs: 0 };
    const timed: Array<{ record: CloudTrailRecord; t: number }> = [];
    for (const record of records) {
      const t = typeof record.eventTime === 'string' ? eventTimeMs(record.eventTime) : undefined;
      if (t === undefined || typeof record.eventID !== 'string') result.skipped++;
      else timed.push({ record, t });
    }
    if (options.replaceGenerated) {
      this.generate = false;
      this.cache.deleteWhere(() => true);
    }
    if (timed.length === 0) return result;

    const newest = timed.reduce((max, { t }) => Math.max(max, t), -Infinity);
    const shiftTo = options.shiftTo ?? 'now';
    const target = shiftTo === 'now' ? this.now() : shiftTo instanceof Date ? shiftTo.getTime() : shiftTo;
    result.shiftMs = Math.floor((target - newest) / 1000) * 1000;

    const touched = new Set<string>();
    for (const { record, t } of timed) {
      // A record without an account is served only under an explicit accountId.
      const own = accountRegionOf(record) ?? { accountId: 'unknown', region: record.awsRegion };
      const source = { accountId: options.accountId ?? own.accountId, region: options.region ?? own.region };
      if (!this.serves(source)) {
        result.skipped++;
        continue;
      }
      const key = `${source.accountId}/${source.region}`;
      const ids = mapGet(this.replayedIds, key, () => new Set<string>());
      if (ids.has(record.eventID)) {
        result.duplicates++;
        continue;
      }
      ids.add(record.eventID);
      const shifted = Math.floor((t + result.shiftMs) / 1000) * 1000;
      const copy: CloudTrailRecord = { ...record, eventTime: isoSecond(shifted) };
      if (options.accountId !== undefined) copy.recipientAccountId = options.accountId;
      if (options.region !== undefined) copy.awsRegion = options.region;
      const minuteMs = floorMinute(shifted);
      const minutes = mapGet(this.replayed, key, () => new Map<number, Entry[]>());
      mapGet(minutes, minuteMs, (): Entry[] => []).push({ t: shifted, r: copy });
      touched.add(`${key}/${minuteMs}`);
      result.added++;
    }
    this.cache.deleteWhere((m) => touched.has(`${m.source.accountId}/${m.source.region}/${m.minuteMs}`));
    return result;
  }

  private build(model: SourceModel, minuteMs: number): GeneratedMinute {
    const entries: Entry[] = [];
    const times = new EventTimes(minuteMs);
    const minuteIndex = minuteMs / MINUTE_MS;

    if (this.generate && model.alias) {
      const rng = new Rng(model.hash, minuteIndex);
      const count = rng.poisson(this.eventsPerMinute * this.rhythm(minuteMs));
      const others = model.identities.length - 1;
      for (let i = 0; i < count; i++) {
        const index = model.alias.pick(rng);
        // Each API has its own dominant callers: rotate the popularity order by the API.
        const identity =
          rng.float() < ROOT_SHARE
            ? model.identities[others]
            : model.identities[(model.identityAlias.pick(rng) + index * 7) % others];
        entries.push(this.event(model, rng, this.apiList[index], index, times, identity));
      }
    }

    const replayed = this.replayed.get(model.key)?.get(minuteMs);
    if (replayed) entries.push(...replayed);

    for (const scheduled of this.scheduled) {
      if (minuteMs < scheduled.startMs || minuteMs >= scheduled.endMs || !covers(scheduled.anomaly, model.source)) {
        continue;
      }
      // Data APIs are data events: Event history never holds them.
      if (scheduled.data) continue;
      this.applyAnomaly(model, scheduled, minuteMs, entries, times);
    }

    entries.sort(byTimeThenId);
    const records = entries.map((entry) => entry.r);
    const eventTimes = Float64Array.from(entries, (entry) => entry.t);
    return { source: model.source, minuteMs, records, times: eventTimes };
  }

  private applyAnomaly(
    model: SourceModel,
    scheduled: ScheduledAnomaly,
    minuteMs: number,
    entries: Entry[],
    times: EventTimes,
  ) {
    const { anomaly, api } = scheduled;
    const matches = (entry: Entry) => entry.r.eventName === api.eventName && entry.r.eventSource === api.eventSource;
    switch (anomaly.kind) {
      case 'drop': {
        const kept = entries.filter((entry) => !matches(entry));
        entries.length = 0;
        entries.push(...kept);
        return;
      }
      case 'spike':
      case 'errors': {
        // Its own random stream: the minute's other events never depend on the anomaly.
        const rng = new Rng(scheduled.hash ^ model.hash, minuteMs / MINUTE_MS);
        const index = this.apiIndex.get(apiKey(api.eventSource, api.eventName)) ?? -1;
        const expected = index >= 0 ? this.expected(model, index, minuteMs) : 0;
        const target = rng.poisson((anomaly.factor ?? 1) * Math.max(expected, 1));
        const extra = anomaly.kind === 'errors' ? target : target - entries.filter(matches).length;
        // One caller: pick among identities with an arn, so attributions have a clear top entry.
        const candidates = model.identities.filter((identity) => identity.arn && identity.userIdentity.type !== 'Root');
        const identity = candidates[scheduled.hash % candidates.length];
        for (let i = 0; i < extra; i++) {
          entries.push(this.event(model, rng, api, index, times, identity, anomaly.errorCode));
        }
        return;
      }
    }
  }

  private event(
    model: SourceModel,
    rng: Rng,
    api: ApiDef,
    index: number,
    times: EventTimes,
    identity: SimIdentity,
    forcedError?: string,
  ): Entry {
    const second = rng.int(60);
    const agents = identity.userAgents;
    const userAgent = agents.length === 1 ? agents[0] : agents[rng.int(agents.length)];
    const errorCode =
      forcedError ?? (index >= 0 && rng.float() < model.errorProb[index] ? pickError(api, rng) : undefined);
    const params = api.eventName.startsWith('List') ? undefined : model.params.get(api.service);
    const requestParameters = params ? params[rng.int(params.length)] : null;
    const requestID = rng.uuid();
    const eventID = rng.uuid();
    // Whole literals in AWS's field order: objects of one shape, properties stored in the object.
    const record: CloudTrailRecord =
      errorCode === undefined
        ? {
            eventVersion: '1.11',
            userIdentity: identity.userIdentity,
            eventTime: times.at(second),
            eventSource: api.eventSource,
            eventName: api.eventName,
            awsRegion: model.source.region,
            sourceIPAddress: identity.sourceIPAddress,
            userAgent,
            requestParameters,
            responseElements: null,
            requestID,
            eventID,
            readOnly: api.readOnly,
            eventType: 'AwsApiCall',
            managementEvent: true,
            recipientAccountId: model.source.accountId,
            eventCategory: 'Management',
          }
        : {
            eventVersion: '1.11',
            userIdentity: identity.userIdentity,
            eventTime: times.at(second),
            eventSource: api.eventSource,
            eventName: api.eventName,
            awsRegion: model.source.region,
            sourceIPAddress: identity.sourceIPAddress,
            userAgent,
            errorCode,
            errorMessage: errorMessage(api, errorCode, identity, model.source),
            requestParameters,
            responseElements: null,
            requestID,
            eventID,
            readOnly: api.readOnly,
            eventType: 'AwsApiCall',
            managementEvent: true,
            recipientAccountId: model.source.accountId,
            eventCategory: 'Management',
          };
    if (!identity.viaService) record.tlsDetails = model.tls.get(api.eventSource);
    if (identity.console && userAgent === 'console.amazonaws.com') record.sessionCredentialFromConsole = 'true';
    return { t: times.ms(second), r: record };
  }

  private expected(model: SourceModel, index: number, minuteMs: number): number {
    return this.generate ? this.eventsPerMinute * this.rhythm(minuteMs) * model.share[index] : 0;
  }

  private resolveApi(request: AnomalyRequest): ApiDef {
    const index = this.apiIndex.get(apiKey(request.eventSource, request.eventName));
    if (index !== undefined) return this.apiList[index];
    // An API outside the ones in use: borrow its service's error codes when the service is known.
    const service = SERVICES.find((s) => s.eventSource === request.eventSource) ?? {
      eventSource: request.eventSource,
      actionPrefix: request.eventSource.split('.')[0],
      reads: [],
      writes: [],
      errors: [{ code: 'AccessDenied', message: 'Access Denied', weight: 1 }],
      resource: { param: 'name', values: ['example'] },
    };
    const readOnly = [...service.reads, ...service.writes].includes(request.eventName)
      ? service.reads.includes(request.eventName)
      : inferReadOnly(request.eventName);
    return apiDef(service, request.eventName, readOnly);
  }

  private model(source: AccountRegion): SourceModel {
    const key = `${source.accountId}/${source.region}`;
    const existing = this.models.get(key);
    if (existing) return existing;
    if (!this.serves(source)) throw new RangeError(`account-region ${key} is not served by this simulator`);

    // Popularity and error proneness are per account (the same workload in each of its regions).
    const rng = new Rng(hashString(`model/${source.accountId}`, this.seed));
    const n = this.apiList.length;
    const ranks = shuffled(
      Array.from({ length: n }, (_, i) => i),
      rng,
    );
    const zipf = zipfWeights(n, ZIPF_EXPONENT);
    const weights = new Float64Array(n);
    ranks.forEach((apiIndex, rank) => {
      const api = this.apiList[apiIndex];
      const offRegion = api.service.global && source.region !== 'us-east-1';
      weights[apiIndex] = offRegion ? 0 : zipf[rank] * (api.readOnly ? 1 : WRITE_WEIGHT);
    });
    const total = weights.reduce((sum, w) => sum + w, 0);
    const share = weights.map((w) => (total > 0 ? w / total : 0));

    // Some APIs fail far more often than others (lognormal spread), scaled so the overall share
    // of failed calls is errorRate.
    const proneness = Float64Array.from({ length: n }, () => Math.exp(0.9 * rng.gaussian()));
    const mean = share.reduce((sum, s, i) => sum + s * proneness[i], 0) || 1;
    const errorProb = proneness.map((p) => Math.min(0.6, (this.errorRate * p) / mean));

    const identities = mapGet(this.identities, source.accountId, () => identityPool(source.accountId, this.seed));
    const model: SourceModel = {
      source: { accountId: source.accountId, region: source.region },
      key,
      hash: hashString(key, this.seed),
      alias: total > 0 ? new AliasTable(weights) : undefined,
      share,
      errorProb,
      identities,
      identityAlias: new AliasTable(zipfWeights(identities.length - 1, 0.9)),
      params: new Map(SERVICES.map((service) => [service, resourceParams(service, source)])),
      tls: new Map(
        SERVICES.map((service, i) => [
          service.eventSource,
          Object.freeze({
            tlsVersion: TLS_VERSIONS[i % TLS_VERSIONS.length],
            cipherSuite: i % 2 === 0 ? 'TLS_AES_128_GCM_SHA256' : 'ECDHE-RSA-AES128-GCM-SHA256',
            clientProvidedHostHeader: service.global
              ? service.eventSource
              : `${service.eventSource.split('.')[0]}.${source.region}.amazonaws.com`,
          }),
        ]),
      ),
    };
    this.models.set(key, model);
    return model;
  }
}

/**
 * Traffic volume at a time, relative to the busiest minute (1 at 15:00 UTC on weekdays): a
 * smooth daily curve down to 15% at 03:00 UTC, and weekends at 35% of weekdays.
 */
export function trafficRhythm(epochMs: number): number {
  const hour = (((epochMs % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000;
  const daily = 0.15 + 0.85 * ((1 + Math.cos((2 * Math.PI * (hour - 15)) / 24)) / 2) ** 2;
  // 1970-01-01 was a Thursday (4).
  const weekday = (Math.floor(epochMs / DAY_MS) + 4) % 7;
  return daily * (weekday === 0 || weekday === 6 ? 0.35 : 1);
}

/** The 60 eventTime strings of one minute, made once each from the minute's prefix. */
class EventTimes {
  private readonly strings: Array<string | undefined> = new Array<string | undefined>(60);
  private readonly prefix: string;

  constructor(private readonly minuteMs: number) {
    this.prefix = isoSecond(minuteMs).slice(0, 17); // 'YYYY-MM-DDTHH:MM:'
  }

  at(second: number): string {
    return (this.strings[second] ??= this.prefix + SECONDS[second]);
  }

  ms(second: number): number {
    return this.minuteMs + second * 1000;
  }
}

const SECONDS = Array.from({ length: 60 }, (_, s) => `${String(s).padStart(2, '0')}Z`);

function covers(scope: { accountId?: string; region?: string }, source: AccountRegion): boolean {
  return (
    (scope.accountId === undefined || scope.accountId === source.accountId) &&
    (scope.region === undefined || scope.region === source.region)
  );
}

function pickError(api: ApiDef, rng: Rng): string {
  const errors = api.errors;
  let total = 0;
  for (const error of errors) total += error.weight;
  let x = rng.float() * total;
  for (const error of errors) {
    x -= error.weight;
    if (x < 0) return error.code;
  }
  return errors[errors.length - 1].code;
}

function errorMessage(api: ApiDef, code: string, identity: SimIdentity, source: AccountRegion): string {
  const template =
    api.errors.find((error) => error.code === code)?.message ??
    api.service.errors.find((error) => error.code === code)?.message ??
    (code.startsWith('AccessDenied') ? 'User: {arn} is not authorized to perform: {action}' : `${code}`);
  if (!template.includes('{')) return template;
  return template
    .replaceAll('{arn}', identity.arn ?? identity.userIdentity.invokedBy ?? 'unknown')
    .replaceAll('{action}', `${api.service.actionPrefix}:${api.eventName.replace(/\d{8}(v\d+)?$/, '')}`)
    .replaceAll('{account}', source.accountId)
    .replaceAll('{region}', source.region);
}

function resourceParams(service: ServiceDef, source: AccountRegion): ReadonlyArray<Record<string, unknown>> {
  return service.resource.values.map((value) =>
    Object.freeze({
      [service.resource.param]: value.replaceAll('{account}', source.accountId).replaceAll('{region}', source.region),
    }),
  );
}

function byTimeThenId(a: Entry, b: Entry): number {
  return a.t - b.t || (a.r.eventID < b.r.eventID ? -1 : a.r.eventID > b.r.eventID ? 1 : 0);
}

function apiKey(eventSource: string, eventName: string): string {
  return `${eventSource} ${eventName}`;
}

function floorMinute(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

/** 'YYYY-MM-DDTHH:MM:SSZ', CloudTrail's eventTime layout. */
export function isoSecond(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function mapGet<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}
