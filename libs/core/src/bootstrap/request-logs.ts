import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { PinoLogger } from 'nestjs-pino';
import { isLoggedPath, requestLine } from '../logging/app.logger.js';

/**
 * Request logs from two Fastify hooks. `onRequest` runs the rest of the request inside a
 * nestjs-pino context bound to Fastify's request id (see request-id.ts), so every line any class
 * logs while handling it carries `reqId`; Fastify keeps the context across body parsing.
 * `onResponse` writes the one `request completed` line, straight to the root pino logger: pino-http
 * did the same with a logger, listeners and serializers per request, which cost the api a third of
 * its throughput (bench:api).
 */
export async function useRequestLogs(app: NestFastifyApplication): Promise<void> {
  const context = await app.resolve(PinoLogger);
  if (!PinoLogger.root) throw new Error('the app has no pino logger: CoreModule is missing');
  // The root logger carries pino-http's serializers for req and res (raw objects); these lines
  // bring their own plain fields (requestLine).
  const root = PinoLogger.root.child({}, { serializers: { req: plain, res: plain } });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, _reply, done) => {
      context.runInContext(done, { bindings: { reqId: request.id } });
    })
    .addHook('onResponse', (request, reply, done) => {
      const status = reply.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      if (root.isLevelEnabled(level) && isLoggedPath(request.url)) {
        root[level](
          requestLine(request.id, request.method, request.url, status, reply.elapsedTime),
          'request completed',
        );
      }
      done();
    });
}

function plain<T>(value: T): T {
  return value;
}
