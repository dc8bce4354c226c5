import { createLogger, logLevelsFrom } from './app.logger.js';

/** Everything written to stdout and stderr while `fn` runs. */
function capture(fn: () => void): string {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  for (const stream of streams) {
    stream.write = (chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    };
  }
  try {
    fn();
  } finally {
    streams.forEach((stream, i) => (stream.write = originals[i]!));
  }
  return chunks.join('');
}

describe('createLogger', () => {
  it('writes one JSON object per line, with level and context, and redacts secrets', () => {
    const logger = createLogger({ logFormat: 'json', logLevel: 'log' });
    const out = capture(() => {
      logger.log({ msg: 'subscribed', url: 'https://x', secret: 'whsec_1' }, 'WebhooksService');
      logger.warn('retrying redis://u:pw@redis:6379', 'RedisService');
    });
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first).toMatchObject({
      level: 'log',
      context: 'WebhooksService',
      message: { msg: 'subscribed', url: 'https://x', secret: '[redacted]' },
    });
    expect(second).toMatchObject({
      level: 'warn',
      context: 'RedisService',
      message: 'retrying redis://u:[redacted]@redis:6379',
    });
    expect(out).not.toContain('whsec_1');
    expect(out).not.toContain(':pw@');
  });

  it('prints errors with their stack in JSON', () => {
    const logger = createLogger({ logFormat: 'json', logLevel: 'error' });
    const error = new Error('boom');
    const out = capture(() => {
      logger.error('failed', error.stack, 'Worker');
    });
    const record = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'error', context: 'Worker', message: 'failed' });
    expect(JSON.stringify(record)).toContain('boom');
  });

  it('drops levels below the configured one', () => {
    const logger = createLogger({ logFormat: 'json', logLevel: 'warn' });
    const out = capture(() => {
      logger.debug?.('noise');
      logger.log('info');
      logger.warn('careful');
      logger.error('bad');
    });
    const levels = out
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { level: string }).level);
    expect(levels).toEqual(['warn', 'error']);
  });

  it('prints readable text in pretty mode', () => {
    const logger = createLogger({ logFormat: 'pretty', logLevel: 'log' });
    const out = capture(() => {
      logger.log('hello', 'Main');
    });
    expect(out).toContain('hello');
    expect(out).toContain('[Main]');
    expect(() => JSON.parse(out) as unknown).toThrow();
  });

  it.each([
    ['error', ['fatal', 'error']],
    ['log', ['fatal', 'error', 'warn', 'log']],
    ['verbose', ['fatal', 'error', 'warn', 'log', 'debug', 'verbose']],
  ] as const)('LOG_LEVEL=%s enables %j', (level, expected) => {
    expect(logLevelsFrom(level)).toEqual(expected);
  });
});
