import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { PinoLogger } from 'nestjs-pino';
import { pinoHttp } from 'pino-http';
import { requestLogOptions } from '../logging/app.logger.js';

/**
 * Request logs from a Fastify `onRequest` hook: pino-http on the raw request and response (one
 * line when the answer is sent, with Fastify's request id: see request-id.ts), and the rest of the
 * request handled inside a nestjs-pino context bound to that id, so every line any class logs
 * while handling it carries `reqId`. Fastify keeps the context across body parsing.
 */
export async function useRequestLogs(app: NestFastifyApplication): Promise<void> {
  const context = await app.resolve(PinoLogger);
  if (!PinoLogger.root) throw new Error('the app has no pino logger: CoreModule is missing');
  const logRequest = pinoHttp({ ...requestLogOptions(), logger: PinoLogger.root });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      request.raw.id = request.id;
      logRequest(request.raw, reply.raw);
      context.runInContext(done, { bindings: { reqId: request.id } });
    });
}
