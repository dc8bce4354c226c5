import type { LoggerService } from '@nestjs/common';
import { Logger as NestPinoLogger, type Params, type PinoLogger } from 'nestjs-pino';
import { pino, stdTimeFunctions, type DestinationStream, type Level, type LoggerOptions } from 'pino';
import type { Options as HttpLogOptions } from 'pino-http';
import type { AppConfig } from '../config/app-config.js';
import { redact } from './redact.js';

type LogSettings = Pick<AppConfig, 'logLevel' | 'logFormat'>;

/** Nest's level names to pino's: `log` is info, `verbose` is trace. */
const PINO_LEVEL: Record<AppConfig['logLevel'], Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Probes and scrapes: answered, timed in /metrics, never logged (they would drown the rest). */
const UNLOGGED_PATH = /^\/(health|metrics)(\/|\?|$)/;

/**
 * The one logger of every process: pino, one JSON object per line with an ISO `time`, `level` as
 * a name, `context` (the class), and secrets redacted from every message and field (redact.ts)
 * before anything is written. LOG_FORMAT=pretty prints the same lines as text for a terminal.
 */
function pinoOptions(config: LogSettings): LoggerOptions {
  return {
    level: PINO_LEVEL[config.logLevel],
    timestamp: stdTimeFunctions.isoTime,
    base: { pid: process.pid },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map(redact) as Parameters<typeof method>);
      },
    },
  };
}

/** Where lines go: stdout as JSON, or as text in pretty mode. */
function destination(config: LogSettings, out: NodeJS.WritableStream): DestinationStream {
  if (config.logFormat === 'json') return out;
  return { write: (line: string) => out.write(prettyLine(line)) };
}

/**
 * The settings of CoreModule's nestjs-pino loggers: its Logger becomes the app's logger
 * (serveApp) and writes through the app's one pino logger, built here.
 */
export function loggerParams(config: LogSettings, out: NodeJS.WritableStream = process.stdout): Params {
  return { pinoHttp: [pinoOptions(config), destination(config, out)] };
}

/**
 * pino-http's settings for the request lines (useRequestLogs): one line per answered request with
 * method, URL, status and time taken, `reqId` on it (quietReqLogger: the request's id only, not
 * its headers); `/health*` and `/metrics` not logged.
 */
export function requestLogOptions(): HttpLogOptions {
  return {
    quietReqLogger: true,
    autoLogging: { ignore: (request) => UNLOGGED_PATH.test(request.url ?? '') },
    customLogLevel: (_request, response, error) =>
      error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
    serializers: {
      req: (request: { id: unknown; method: string; url: string }) => ({
        id: request.id,
        method: request.method,
        url: redact(request.url),
      }),
      res: (response: { raw?: { statusCode: number }; statusCode: number | null }) => ({
        statusCode: response.raw?.statusCode ?? response.statusCode,
      }),
    },
  };
}

/**
 * A Nest LoggerService on the same pino settings, for code that logs outside a Nest app (the
 * simulator, boot of the all-in-one process) and for tests. Nest apps log through CoreModule's
 * nestjs-pino Logger instead (the same lines, plus the request id inside requests).
 */
export function createLogger(config: LogSettings, out: NodeJS.WritableStream = process.stdout): LoggerService {
  const logger = pino(pinoOptions(config), destination(config, out));
  // nestjs-pino's adapter only calls the level methods, which a pino logger has as PinoLogger does.
  return new NestPinoLogger(logger as unknown as PinoLogger, {});
}

const LEVEL_COLUMN: Record<string, string> = {
  trace: 'VERBOSE',
  debug: 'DEBUG',
  info: 'LOG',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'FATAL',
};

/** One JSON line as `time LEVEL [context] message {other fields}`. */
function prettyLine(line: string): string {
  const { time, level, context, msg, pid: _pid, ...rest } = JSON.parse(line) as Record<string, unknown>;
  const fields = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  const where = typeof context === 'string' ? ` [${context}]` : '';
  return `${String(time)} ${LEVEL_COLUMN[String(level)] ?? String(level)}${where} ${typeof msg === 'string' ? msg : ''}${fields}\n`;
}
