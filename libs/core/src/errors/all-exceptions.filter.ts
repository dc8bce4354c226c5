import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

export interface ErrorResponseBody {
  statusCode: number;
  message: string | string[];
  error?: unknown;
  errorId?: string;
  [field: string]: unknown;
}

/**
 * The one exception filter, registered as APP_FILTER by CoreModule (so tests that build the
 * module get it too).
 *
 * - HttpException: its status and `{ statusCode, message, error }`; an object body (validation
 *   message arrays, the health report) is kept.
 * - Anything else: 500 `{ statusCode, message: 'Internal server error', errorId }`. The stack is
 *   logged under the same errorId and never sent.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const http = host.switchToHttp();
    const request: unknown = http.getRequest();
    const response: unknown = http.getResponse();
    const where =
      host.getType() === 'http'
        ? `${String(httpAdapter.getRequestMethod(request))} ${String(httpAdapter.getRequestUrl(request))}`
        : host.getType();
    const { status, body } = this.toResponse(exception, where);
    if (host.getType() !== 'http') return;
    if (httpAdapter.isHeadersSent(response)) {
      // Too late for a status line: end what was started rather than hang the client.
      httpAdapter.end(response);
      return;
    }
    httpAdapter.reply(response, body, status);
  }

  private toResponse(exception: unknown, where: string): { status: number; body: ErrorResponseBody } {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const payload = exception.getResponse();
      const body: ErrorResponseBody =
        typeof payload === 'object'
          ? {
              statusCode: status,
              message: STATUS_CODES[status] ?? exception.message,
              error: STATUS_CODES[status],
              ...payload,
            }
          : { statusCode: status, message: payload, error: STATUS_CODES[status] };
      body.statusCode = status;
      return { status, body };
    }
    const errorId = randomUUID();
    const error = exception instanceof Error ? exception : new Error(String(exception));
    this.logger.error(`errorId=${errorId} ${where}: ${error.message}`, error.stack);
    const status = HttpStatus.INTERNAL_SERVER_ERROR;
    return { status, body: { statusCode: status, message: 'Internal server error', errorId } };
  }
}
