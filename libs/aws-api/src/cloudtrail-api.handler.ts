import { Logger } from '@nestjs/common';
import type { AddressLimiter, ApiKeyStore, AuthStats, RateLimiter } from '@trailsight/core';
import {
  AWS_JSON_CONTENT_TYPE,
  AwsServiceError,
  awsErrorResponse,
  cloudTrailOperation,
  parseAwsJsonBody,
  parseLookupEventsRequest,
} from '@trailsight/cloudtrail';
import { SeriesHistoryQueryError } from '@trailsight/detection';
import type { AwsCallerScope, InsightEventsLookup } from './lookup-events/insight-events.lookup.js';
import type { InsightsMetricData } from './metric-data/insights-metric-data.js';
import { parseAuthorization, verifySignature, type SignedRequest } from './sigv4/sigv4.verifier.js';

/** An answer in AWS JSON 1.1. */
export interface AwsResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the handler needs of the auth module: keys, the per-key and per-address limits, counters. */
export interface AwsAuthParts {
  keys: ApiKeyStore;
  rateLimiter: RateLimiter;
  addresses: AddressLimiter;
  stats: AuthStats;
}

/**
 * CloudTrail's API for Insights at /aws, in AWS JSON 1.1: authenticates the request by SigV4
 * with a Trailsight aws key, then runs the operation X-Amz-Target names. Every refusal is AWS's
 * error shape (`__type`, message, `x-amzn-ErrorType`), so the SDKs and the CLI report it by name.
 */
export class CloudTrailApiHandler {
  private readonly logger = new Logger('CloudTrailApi');

  constructor(
    private readonly auth: AwsAuthParts,
    private readonly insightEvents: InsightEventsLookup,
    private readonly metricData: InsightsMetricData,
  ) {}

  async handle(request: SignedRequest & { address: string }, nowMs = Date.now()): Promise<AwsResponse> {
    try {
      const scope = await this.authenticate(request, nowMs);
      const operation = cloudTrailOperation(single(request.headers['x-amz-target']));
      if (operation === undefined) {
        throw new AwsServiceError(
          'UnknownOperationException',
          'X-Amz-Target must name a CloudTrail_20131101 operation (CloudTrail_20131101.LookupEvents).',
        );
      }
      const contentType = (single(request.headers['content-type']) ?? '').split(';')[0].trim().toLowerCase();
      if (contentType !== AWS_JSON_CONTENT_TYPE) {
        throw new AwsServiceError(
          'SerializationException',
          `Content-Type must be ${AWS_JSON_CONTENT_TYPE}, got "${contentType}"`,
        );
      }
      const input = parseAwsJsonBody(request.body);
      switch (operation) {
        case 'LookupEvents':
          return ok(await this.insightEvents.lookup(scope, parseLookupEventsRequest(input), nowMs));
        case 'ListInsightsMetricData':
          return ok(await this.metricData.list(scope, input, nowMs));
        default:
          throw new AwsServiceError(
            'UnknownOperationException',
            `Trailsight serves LookupEvents (Insights events) and ListInsightsMetricData only, not ${operation}.`,
          );
      }
    } catch (error) {
      if (error instanceof AwsServiceError) return awsErrorResponse(error);
      if (error instanceof SeriesHistoryQueryError) {
        return awsErrorResponse(new AwsServiceError('InvalidParameterException', error.message));
      }
      const id = crypto.randomUUID();
      this.logger.error(`CloudTrail API request failed (error id ${id}): ${String(error)}`);
      return awsErrorResponse(new AwsServiceError('InternalFailure', `Internal error; error id ${id}`, 500));
    }
  }

  /**
   * The caller's scope from a valid signature. Like the API key guard, an access key the process
   * does not hold in its cache first spends a token of the client's address (given back when the
   * signature is valid), so guessing keys is limited per address by API_AUTH_FAILURE_LIMIT; a
   * valid key then counts against API_RATE_LIMIT. Both refusals are ThrottlingException
   * (HTTP 400), as AWS throttles.
   */
  private async authenticate(request: SignedRequest & { address: string }, nowMs: number): Promise<AwsCallerScope> {
    const { keys, addresses, rateLimiter, stats } = this.auth;
    let authorization;
    try {
      authorization = parseAuthorization(request, nowMs);
    } catch (error) {
      stats.unauthorized++;
      throw error;
    }
    // A key this process knows skips the address budget; any other spends a token first.
    let credential = keys.knownAws(authorization.accessKeyId, nowMs);
    const spent = credential === undefined;
    if (spent) {
      const budget = addresses.take(request.address, nowMs);
      if (!budget.allowed) {
        stats.addressLimited++;
        throw new AwsServiceError(
          'ThrottlingException',
          `Rate exceeded: too many unknown access keys from this address; retry in ${budget.retryAfterSeconds} s`,
        );
      }
      credential = await keys.awsCredential(authorization.accessKeyId, nowMs);
    }
    if (!credential) {
      stats.unauthorized++;
      throw new AwsServiceError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    }
    try {
      verifySignature(request, authorization, credential.secretAccessKey);
    } catch (error) {
      stats.unauthorized++;
      throw error;
    }
    if (spent) addresses.refund(request.address, nowMs);
    if (rateLimiter.enabled) {
      const decision = await rateLimiter.hit(credential.principal.keyId);
      if (!decision.allowed) {
        stats.rateLimited++;
        throw new AwsServiceError('ThrottlingException', 'Rate exceeded');
      }
    }
    return {
      region: authorization.region,
      ...(credential.accountId === undefined ? {} : { accountId: credential.accountId }),
    };
  }
}

function ok(value: unknown): AwsResponse {
  return { status: 200, headers: { 'content-type': AWS_JSON_CONTENT_TYPE }, body: JSON.stringify(value) };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
