import { ConsoleLogger, type LogLevel as NestLogLevel, type LoggerService } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { redact } from './redact.js';

/** Nest levels from most to least severe; a configured level enables itself and everything above. */
const SEVERITY: NestLogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * Nest's ConsoleLogger (one JSON object per line, or colourful text for a terminal) that
 * redacts secrets from every message and parameter before printing. Classes keep using
 * `private readonly logger = new Logger(MyClass.name)`; Nest routes those calls here.
 */
class AppLogger extends ConsoleLogger {
  override log(message: unknown, ...params: unknown[]): void {
    super.log(redact(message), ...params.map(redact));
  }

  override error(message: unknown, ...params: unknown[]): void {
    super.error(redact(message), ...params.map(redact));
  }

  override warn(message: unknown, ...params: unknown[]): void {
    super.warn(redact(message), ...params.map(redact));
  }

  override debug(message: unknown, ...params: unknown[]): void {
    super.debug(redact(message), ...params.map(redact));
  }

  override verbose(message: unknown, ...params: unknown[]): void {
    super.verbose(redact(message), ...params.map(redact));
  }

  override fatal(message: unknown, ...params: unknown[]): void {
    super.fatal(redact(message), ...params.map(redact));
  }
}

/**
 * The logger every app boots with:
 *
 *   const config = loadConfig();
 *   const app = await NestFactory.create(AppModule.forRoot(config), { logger: createLogger(config) });
 *
 * (or `{ bufferLogs: true }` and then `app.useLogger(createLogger(config))`).
 * LOG_FORMAT=json prints one JSON object per line; pretty is for a terminal.
 */
export function createLogger(config: Pick<AppConfig, 'logLevel' | 'logFormat'>): LoggerService {
  const json = config.logFormat === 'json';
  return new AppLogger({
    json,
    colors: !json,
    logLevels: logLevelsFrom(config.logLevel),
  });
}

/** Every level at least as severe as `level`. */
export function logLevelsFrom(level: AppConfig['logLevel']): NestLogLevel[] {
  return SEVERITY.slice(0, SEVERITY.indexOf(level) + 1);
}
