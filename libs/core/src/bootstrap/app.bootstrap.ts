import { Logger, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config.js';
import { ConfigError, loadConfig } from '../config/config.loader.js';
import { mountConsole } from '../console/console.static.js';
import { createLogger } from '../logging/app.logger.js';
import { useJsonBodies } from './json-body.js';
import { requestId, useRequestIdHeader } from './request-id.js';
import { useRequestLogs } from './request-logs.js';
import { useRequestMetrics } from './request-metrics.js';
import { useSecurityHeaders } from './security-headers.js';
import { trackShutdownHooks } from './shutdown-hooks.js';

/**
 * The configuration, or the process ends here with one line naming what is wrong.
 * Every main.ts starts with this: no app runs on a half-valid environment.
 */
export function configOrExit(env: NodeJS.ProcessEnv = process.env): AppConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
}

export interface ServeOptions {
  /** Mount the Swagger console at /docs and the OpenAPI document at /docs-json. */
  swagger?: boolean;
  /** Serve the web console at /console (built by `npm run build`); `/` redirects there. */
  console?: boolean;
}

/**
 * Creates and serves one Nest app on config.port. SIGTERM/SIGINT close it (workers finish their
 * jobs, connections close) and then exit the process, so `finally`-style cleanup such as an
 * embedded redis-server runs too.
 */
export async function serveApp(
  module: Type | DynamicModule,
  config: AppConfig,
  options: ServeOptions = {},
): Promise<INestApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter({ genReqId: requestId }), {
    // Boot lines are held until the app's own logger (CoreModule's, with request ids) takes
    // over; this one, on the same settings, writes them if the boot fails first.
    logger: createLogger(config),
    bufferLogs: true,
    bodyParser: false, // useJsonBodies: JSON only, checked
  });
  app.useLogger(app.get(PinoNestLogger));
  useJsonBodies(app);
  useSecurityHeaders(app);
  useRequestIdHeader(app);
  await useRequestLogs(app);
  useRequestMetrics(app);
  app.enableShutdownHooks(undefined, { useProcessExit: true });
  exitIfShutdownHangs(new Logger('Shutdown'), trackShutdownHooks(app));
  if (options.swagger) mountSwagger(app);
  if (options.console) await mountConsole(app, new Logger('Console'));
  // Every interface, as Express listens by default (Fastify alone would listen on localhost only).
  await app.listen(config.port, '0.0.0.0');
  return app;
}

/**
 * A shutdown that outlives this deadline exits anyway: a close that waits on a Redis node that
 * died (BullMQ's, ioredis Cluster's) must not keep a replica from stopping. Longer than the
 * workers' own close deadline (8 s), shorter than the usual grace before SIGKILL (10-30 s).
 * Nothing is lost: jobs not acknowledged go back to their queue when their locks expire.
 */
const SHUTDOWN_DEADLINE_MS = 12_000;

function exitIfShutdownHangs(logger: Logger, shutdownHooks: () => string[]): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        const hooks = shutdownHooks();
        logger.error(
          `shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms of ${signal}: exiting now ` +
            `(shutdown hooks: ${hooks.length > 0 ? hooks.join(', ') : 'none running or slow'})`,
        );
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
    });
  }
}

/** The Swagger console at /docs and its OpenAPI 3 document at /docs-json, both built from the code. */
export function mountSwagger(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Trailsight')
      .setDescription(
        'Self-hosted CloudTrail Insights: unusual API call volume and error counts as Insights records in AWS layout.',
      )
      .setVersion('1')
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer <key>` (see API_KEYS)' },
        'api-key',
      )
      .addApiKey(
        { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'The same key as a header' },
        'x-api-key',
      )
      .build(),
  );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    // The console is served by this process: nothing fetched from a CDN. A key given to Authorize
    // lives in the page only: persisting it would leave it in the browser's localStorage.
    swaggerOptions: { persistAuthorization: false, displayRequestDuration: true },
  });
}

/** Logs what ended a main() and exits non-zero: a crash at boot never leaves a half-started process. */
export function exitOnBootFailure(error: unknown): never {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
}
