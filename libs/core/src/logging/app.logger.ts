import type { LoggerService } from '@nestjs/common';
import { Logger as NestPinoLogger, type Params, type PinoLogger } from 'nestjs-pino';
import { pino, stdTimeFunctions, type DestinationStream, type Level, type LoggerOptions } from 'pino';
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

/** Health probes and scrapes are not request-logged: they would drown the lines that matter. */
export function isLoggedPath(url: string): boolean {
  return !UNLOGGED_PATH.test(url);
}

/** The fields of a `request completed` line (useRequestLogs): the request's id, what was asked, the answer, the time taken. */
export function requestLine(id: string, method: string, url: string, statusCode: number, elapsedMs: number) {
  return { reqId: id, req: { id, method, url: redact(url) }, res: { statusCode }, responseTime: Math.round(elapsedMs) };
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
