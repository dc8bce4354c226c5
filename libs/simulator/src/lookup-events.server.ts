import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccountRegion } from '@trailsight/domain';
import { AnomalyValidationError, parseAnomalyRequest } from './anomaly.js';
import {
  AWS_JSON_CONTENT_TYPE,
  AwsServiceError,
  awsErrorResponse,
  cloudTrailOperation,
  parseAwsJsonBody,
  type LookupEventsEvent,
} from '@trailsight/cloudtrail';
import {
  SIMULATOR_FAULT_KINDS,
  FaultInjector,
  type SimulatorFaultKind,
  type SimulatorFaultSpec,
} from './fault-injector.js';
import { LookupEventsHandler } from './lookup-events.handler.js';
import { NextTokenCodec } from './next-token.codec.js';
import type { SimulatedAccount } from './simulated-account.js';
import { TokenBucket } from './token-bucket.js';

export interface SimulatorServerOptions {
  account: SimulatedAccount;
  /** LookupEvents requests per second per account-region before ThrottlingException (default 2, as AWS). */
  rateLimit?: number;
  /**
   * Who may call the control routes (anomalies, faults, truth, stats): `loopback` (default) only
   * callers on this host's loopback, `any` everyone. LookupEvents and GET /health answer everyone.
   */
  control?: SimulatorControlAccess;
}

export type SimulatorControlAccess = 'loopback' | 'any';

/** LookupEvents requests seen for one account-region. */
export interface SimulatorSourceStats extends AccountRegion {
  requests: number;
  /** Answered 200 with a whole body. */
  served: number;
  /** ThrottlingException, from the rate limit or a forced fault. */
  throttled: number;
  /** Refused with any other error (validation, forced 500). */
  errors: number;
  /** Forced timeouts and truncated bodies. */
  faulted: number;
  /** Events returned in served pages. */
  events: number;
}

const AWS_JSON = AWS_JSON_CONTENT_TYPE;
/** Access keys name the account: AKIDSIM followed by the 12-digit account id. */
const ACCESS_KEY = /^AKIDSIM(\d{12})$/;
const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_TRUTH_RANGE_MS = 31 * 24 * 60 * 60_000;

/**
 * The simulated account over HTTP: CloudTrail's LookupEvents in AWS JSON 1.1 on `POST /`, and
 * the control routes (anomalies, truth, stats, faults, health) on the same port. Plain
 * node:http, so a page costs little more than the JSON it carries.
 *
 * Callers are identified, not authenticated: the account comes from the access key id
 * (AKIDSIM<account>) and the region from the SigV4 credential scope. The signature is not
 * checked: there is no secret exchange to check it against, and a development tool on
 * 127.0.0.1 gains nothing from pretending.
 */
export class SimulatorServer {
  readonly account: SimulatedAccount;
  readonly faults = new FaultInjector();
  private readonly handler: LookupEventsHandler;
  private readonly rateLimit: number;
  private readonly controlAccess: SimulatorControlAccess;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly counters = new Map<string, SimulatorSourceStats>();
  private readonly hung = new Set<ServerResponse>();
  /** LookupEvents requests refused before their account-region was known (bad target, credentials). */
  private unidentified = 0;
  private server?: Server;

  constructor(options: SimulatorServerOptions) {
    this.account = options.account;
    this.rateLimit = options.rateLimit ?? 2;
    this.controlAccess = options.control ?? 'loopback';
    if (!(this.rateLimit > 0)) throw new RangeError(`rateLimit must be above 0, got ${this.rateLimit}`);
    this.handler = new LookupEventsHandler(this.account, new NextTokenCodec());
  }

  /** Listens on host:port (port 0 picks a free one). */
  async start(port: number, host = '127.0.0.1'): Promise<{ port: number; url: string }> {
    if (this.server) throw new Error('SimulatorServer is already started');
    const server = createServer((req, res) => void this.onRequest(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    return { port: address.port, url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}` };
  }

  /** Stops listening and drops open connections, hung ones included. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Requests per account-region so far. */
  stats(): SimulatorSourceStats[] {
    return [...this.counters.values()].map((s) => ({ ...s }));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-amzn-RequestId', randomUUID());
    try {
      const body = await readBody(req);
      if (body === undefined) {
        sendJson(res, 413, { statusCode: 413, message: `request bodies are limited to ${MAX_BODY_BYTES} bytes` });
        return;
      }
      const url = new URL(req.url ?? '/', 'http://simulator');
      const method = req.method ?? 'GET';
      if (url.pathname === '/' && method === 'POST') this.lookupEvents(req, res, body);
      else if (method === 'GET' && url.pathname === '/health') this.control(method, url, body, res);
      else if (this.controlAccess === 'loopback' && !isLoopback(req.socket.remoteAddress)) {
        // Anyone who can reach the port could otherwise inject anomalies and faults or read the truth.
        sendJson(res, 403, {
          statusCode: 403,
          message: 'the control routes answer only callers on loopback (SIMULATOR_CONTROL=loopback)',
        });
      } else this.control(method, url, body, res);
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { statusCode: 500, message: `simulator error: ${String(error)}` });
      else res.destroy();
    }
  }

  private lookupEvents(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    let stats: SimulatorSourceStats | undefined;
    try {
      const target = req.headers['x-amz-target'];
      if (typeof target !== 'string' || cloudTrailOperation(target) !== 'LookupEvents') {
        throw new AwsServiceError(
          'UnknownOperationException',
          target
            ? `Operation ${String(target)} is not simulated: only LookupEvents is`
            : 'X-Amz-Target header is missing',
        );
      }
      const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (contentType !== AWS_JSON) {
        throw new AwsServiceError('SerializationException', `Content-Type must be ${AWS_JSON}, got "${contentType}"`);
      }
      const source = this.identify(req.headers.authorization);
      stats = this.statsFor(source);
      stats.requests++;

      const fault = this.faults.take(source);
      if (fault === 'throttle' || (fault === undefined && !this.bucketFor(source).tryTake())) {
        stats.throttled++;
        sendAwsError(res, new AwsServiceError('ThrottlingException', 'Rate exceeded'));
        return;
      }
      if (fault === 'error500') throw new AwsServiceError('InternalFailure', 'Forced failure (fault injection)', 500);
      if (fault === 'timeout') {
        stats.faulted++;
        // Never answer; the client times out. stop() drops these.
        this.hung.add(res);
        res.once('close', () => this.hung.delete(res));
        return;
      }

      const response = this.handler.handle(source, parseAwsJsonBody(body));
      if (fault === 'bad-records') {
        stats.faulted++;
        response.Events = [...response.Events, ...badRecords(source, ++this.badRecordBatches)];
      }
      const text = JSON.stringify(response);
      if (fault === 'truncate') {
        stats.faulted++;
        sendAws(res, 200, text.slice(0, Math.floor(text.length / 2)));
        return;
      }
      stats.served++;
      stats.events += response.Events.length;
      sendAws(res, 200, text);
    } catch (error) {
      if (!(error instanceof AwsServiceError)) throw error;
      if (stats) stats.errors++;
      else this.unidentified++;
      sendAwsError(res, error);
    }
  }

  private badRecordBatches = 0;

  /** The account-region a request is for, from its SigV4 Authorization header. */
  private identify(authorization: string | undefined): AccountRegion {
    const credential = CREDENTIAL.exec(authorization ?? '');
    if (!credential) {
      throw new AwsServiceError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid: no SigV4 Authorization header with a credential scope.',
      );
    }
    const [, accessKeyId = '', region = '', service] = credential;
    if (service !== 'cloudtrail') {
      throw new AwsServiceError(
        'InvalidSignatureException',
        "Credential should be scoped to correct service: 'cloudtrail'.",
      );
    }
    const account = ACCESS_KEY.exec(accessKeyId);
    if (!account) {
      throw new AwsServiceError(
        'UnrecognizedClientException',
        `The security token included in the request is invalid: the simulator expects access key ids of the form AKIDSIM<12-digit account id>, got ${accessKeyId}.`,
      );
    }
    const source = { accountId: account[1], region };
    if (!this.account.generator.accounts.includes(source.accountId)) {
      throw new AwsServiceError(
        'InvalidClientTokenId',
        `The security token included in the request is invalid: account ${source.accountId} is not simulated (accounts: ${this.account.generator.accounts.join(', ')}).`,
        403,
      );
    }
    if (!this.account.serves(source)) {
      throw new AwsServiceError(
        'UnrecognizedClientException',
        `The security token included in the request is invalid: region ${region} is not simulated (regions: ${this.account.generator.regions.join(', ')}).`,
      );
    }
    return source;
  }

  private control(method: string, url: URL, body: Buffer, res: ServerResponse): void {
    const route = `${method} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    switch (route) {
      case 'GET /health':
        sendJson(res, 200, {
          status: 'ok',
          accounts: this.account.generator.accounts,
          regions: this.account.generator.regions,
          now: new Date(this.account.now()).toISOString(),
        });
        return;
      case 'GET /stats':
        sendJson(res, 200, { sources: this.stats(), unidentified: this.unidentified });
        return;
      case 'GET /anomalies':
        sendJson(res, 200, { anomalies: this.account.anomalies() });
        return;
      case 'POST /anomalies':
        this.postAnomaly(body, res);
        return;
      case 'GET /truth':
        this.getTruth(url.searchParams, res);
        return;
      case 'GET /faults':
        sendJson(res, 200, { faults: this.faults.pending() });
        return;
      case 'POST /faults':
        this.postFault(body, res);
        return;
      case 'DELETE /faults':
        this.faults.clear();
        res.writeHead(204).end();
        return;
      default: {
        const known = ['/health', '/stats', '/anomalies', '/truth', '/faults'].includes(url.pathname);
        if (known) sendJson(res, 405, { statusCode: 405, message: `${method} is not allowed on ${url.pathname}` });
        else sendJson(res, 404, { statusCode: 404, message: `no route ${method} ${url.pathname}` });
      }
    }
  }

  private postAnomaly(body: Buffer, res: ServerResponse): void {
    const input = parseJsonBody(body, res);
    if (input === undefined) return;
    try {
      const { accounts, regions } = this.account.generator;
      sendJson(res, 201, this.account.injectAnomaly(parseAnomalyRequest(input, { accounts, regions })));
    } catch (error) {
      if (!(error instanceof AnomalyValidationError)) throw error;
      badRequest(res, error.message);
    }
  }

  private getTruth(params: URLSearchParams, res: ServerResponse): void {
    const now = this.account.now();
    const until = timeParam(params.get('until'), now);
    const since = timeParam(params.get('since'), (until ?? now) - 60 * 60_000);
    if (until === undefined) return badRequest(res, 'until must be an ISO-8601 time or epoch milliseconds');
    if (since === undefined) return badRequest(res, 'since must be an ISO-8601 time or epoch milliseconds');
    if (since > until) return badRequest(res, 'since must not be after until');
    if (until - since > MAX_TRUTH_RANGE_MS) return badRequest(res, 'since to until may span at most 31 days');
    const accountId = params.get('accountId') ?? undefined;
    const region = params.get('region') ?? undefined;
    const { accounts, regions } = this.account.generator;
    if (accountId !== undefined && !accounts.includes(accountId)) {
      return badRequest(res, `accountId must be one of ${accounts.join(', ')}`);
    }
    if (region !== undefined && !regions.includes(region))
      return badRequest(res, `region must be one of ${regions.join(', ')}`);
    const rows = this.account.truth({ since, until, accountId, region });
    sendJson(res, 200, { since: new Date(since).toISOString(), until: new Date(until).toISOString(), rows });
  }

  private postFault(body: Buffer, res: ServerResponse): void {
    const input = parseJsonBody(body, res);
    if (input === undefined) return;
    const spec = input as Partial<Record<keyof SimulatorFaultSpec, unknown>>;
    const unknown = Object.keys(spec).find((key) => !['kind', 'count', 'accountId', 'region'].includes(key));
    if (unknown) return badRequest(res, `unknown field "${unknown}"; allowed: kind, count, accountId, region`);
    if (typeof spec.kind !== 'string' || !(SIMULATOR_FAULT_KINDS as readonly string[]).includes(spec.kind)) {
      return badRequest(res, `kind must be one of ${SIMULATOR_FAULT_KINDS.join(', ')}`);
    }
    const count = spec.count ?? 1;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1_000_000) {
      return badRequest(res, 'count must be a whole number from 1 to 1000000');
    }
    for (const field of ['accountId', 'region'] as const) {
      if (spec[field] !== undefined && typeof spec[field] !== 'string')
        return badRequest(res, `${field} must be a string`);
    }
    sendJson(
      res,
      201,
      this.faults.add({
        kind: spec.kind as SimulatorFaultKind,
        count,
        ...(spec.accountId !== undefined ? { accountId: spec.accountId as string } : {}),
        ...(spec.region !== undefined ? { region: spec.region as string } : {}),
      }),
    );
  }

  private statsFor(source: AccountRegion): SimulatorSourceStats {
    const key = `${source.accountId}/${source.region}`;
    let stats = this.counters.get(key);
    if (!stats) {
      stats = { ...source, requests: 0, served: 0, throttled: 0, errors: 0, faulted: 0, events: 0 };
      this.counters.set(key, stats);
    }
    return stats;
  }

  private bucketFor(source: AccountRegion): TokenBucket {
    const key = `${source.accountId}/${source.region}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.rateLimit);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}

/** The whole body, or undefined past MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

function sendAws(res: ServerResponse, status: number, text: string, errorType?: string): void {
  const headers: Record<string, string | number> = {
    'content-type': AWS_JSON,
    'content-length': Buffer.byteLength(text),
  };
  if (errorType) headers['x-amzn-ErrorType'] = errorType;
  res.writeHead(status, headers).end(text);
}

function sendAwsError(res: ServerResponse, error: AwsServiceError): void {
  const { status, body } = awsErrorResponse(error);
  sendAws(res, status, body, error.code);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function badRequest(res: ServerResponse, message: string): void {
  sendJson(res, 400, { statusCode: 400, error: 'Bad Request', message });
}

function parseJsonBody(body: Buffer, res: ServerResponse): unknown {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  badRequest(res, 'the body must be a JSON object');
  return undefined;
}

/** Epoch ms from '1741082100000' or an ISO-8601 time; the fallback when absent; undefined when invalid. */
function timeParam(value: string | null, fallback: number): number | undefined {
  if (value === null || value === '') return fallback;
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Unusable events for the bad-records fault: each fails parsing for a different reason. */
function badRecords(source: AccountRegion, batch: number): LookupEventsEvent[] {
  const eventTime = Math.floor(Date.now() / 1000);
  const id = (n: number) => `bad-record-${batch}-${n}`;
  const recordWithoutTime = {
    eventVersion: '1.08',
    eventID: id(2),
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    awsRegion: source.region,
    recipientAccountId: source.accountId,
  };
  const event = (n: number, CloudTrailEvent: string): LookupEventsEvent => ({
    EventId: id(n),
    EventName: 'RunInstances',
    ReadOnly: 'false',
    EventTime: eventTime,
    EventSource: 'ec2.amazonaws.com',
    Resources: [],
    CloudTrailEvent,
  });
  return [event(1, '{"eventVersion": "1.08", '), event(2, JSON.stringify(recordWithoutTime)), event(3, '[1, 2, 3]')];
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}
