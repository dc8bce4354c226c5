import { createHmac, randomBytes } from 'node:crypto';
import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  AddressLimiter,
  APP_CONFIG,
  type AppConfig,
  ApiKeyStore,
  AuthStats,
  RateLimiter,
  redisRepository,
} from '@trailsight/core';
import { EvaluationRepository, SeriesHistoryModule, SeriesHistoryService } from '@trailsight/detection';
import { SignedTokenCodec } from '@trailsight/cloudtrail';
import { FindingsModule, FindingsRepository } from '@trailsight/findings';
import { CloudTrailApiHandler } from './cloudtrail-api.handler.js';
import { InsightEventsLookup } from './lookup-events/insight-events.lookup.js';
import { InsightsMetricData } from './metric-data/insights-metric-data.js';

/** CloudTrail requests are small JSON documents; anything larger is refused before it is read whole. */
const AWS_BODY_LIMIT_BYTES = 256 * 1024;

/**
 * The CloudTrail API for Insights at `/aws` (and `/aws/`, where the SDKs and the CLI post), on
 * the app's Fastify instance. It is a plain Fastify route in a plugin of its own, outside Nest's
 * API key guard, validation pipe and exception filter: it authenticates by SigV4 and answers in
 * AWS JSON 1.1, and its plugin keeps every body raw (the signature covers the exact bytes).
 * Needs CoreModule and AuthModule.
 */
@Module({
  imports: [FindingsModule, SeriesHistoryModule],
  providers: [
    {
      // One NextToken secret for every replica: a page may be asked of any of them. Derived from
      // SECRETS_KEY, without which no aws key (and so no request) can exist.
      provide: SignedTokenCodec,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new SignedTokenCodec(
          config.secretsKey
            ? createHmac('sha256', config.secretsKey).update('trailsight aws-api next-token').digest()
            : randomBytes(32),
        ),
    },
    {
      provide: InsightEventsLookup,
      inject: [FindingsRepository, SignedTokenCodec],
      useFactory: (findings: FindingsRepository, tokens: SignedTokenCodec) => new InsightEventsLookup(findings, tokens),
    },
    redisRepository(EvaluationRepository, (config) => config.counterRetentionMinutes),
    {
      provide: InsightsMetricData,
      inject: [SeriesHistoryService, EvaluationRepository, SignedTokenCodec],
      useFactory: (history: SeriesHistoryService, evaluations: EvaluationRepository, tokens: SignedTokenCodec) =>
        new InsightsMetricData(history, evaluations, tokens),
    },
    {
      provide: CloudTrailApiHandler,
      inject: [ApiKeyStore, RateLimiter, AddressLimiter, AuthStats, InsightEventsLookup, InsightsMetricData],
      useFactory: (
        keys: ApiKeyStore,
        rateLimiter: RateLimiter,
        addresses: AddressLimiter,
        stats: AuthStats,
        insightEvents: InsightEventsLookup,
        metricData: InsightsMetricData,
      ) => new CloudTrailApiHandler({ keys, rateLimiter, addresses, stats }, insightEvents, metricData),
    },
  ],
})
export class AwsApiModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly handler: CloudTrailApiHandler,
  ) {}

  async onModuleInit(): Promise<void> {
    const fastify = (this.adapterHost.httpAdapter as FastifyAdapter).getInstance();
    await fastify.register((instance, _options, done) => {
      // Encapsulated: these parsers apply to /aws only. Any media type arrives as bytes; the
      // handler checks the type after authentication, as AWS does.
      instance.removeAllContentTypeParsers();
      instance.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: AWS_BODY_LIMIT_BYTES }, (_req, body, next) =>
        next(null, body),
      );
      for (const url of ['/aws', '/aws/']) {
        instance.post(url, async (request, reply) => {
          const answer = await this.handler.handle({
            method: request.method,
            url: request.raw.url ?? url,
            headers: request.headers,
            body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
            address: request.ip,
          });
          return reply
            .status(answer.status)
            .headers({ ...answer.headers, 'x-amzn-RequestId': crypto.randomUUID() })
            .send(Buffer.from(answer.body));
        });
      }
      done();
    });
  }
}
