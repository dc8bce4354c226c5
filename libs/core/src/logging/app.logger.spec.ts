import { Writable } from 'node:stream';
import { createLogger } from './app.logger.js';

/** A stream that keeps every line written to it. */
function sink(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').filter(Boolean) };
}

describe('createLogger', () => {
  it('writes one JSON object per line with an ISO time, level and context, and redacts secrets', () => {
    const { stream, lines } = sink();
    const logger = createLogger({ logFormat: 'json', logLevel: 'log' }, stream);
    logger.log({ msg: 'subscribed', url: 'https://x', secret: 'whsec_1' }, 'WebhooksService');
    logger.warn('retrying redis://u:pw@redis:6379', 'RedisService');
    expect(lines()).toHaveLength(2);
    const [first, second] = lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first).toMatchObject({ level: 'info', context: 'WebhooksService', msg: 'subscribed', secret: '[redacted]' });
    expect(second).toMatchObject({
      level: 'warn',
      context: 'RedisService',
      msg: 'retrying redis://u:[redacted]@redis:6379',
    });
    for (const record of [first, second]) {
      expect(new Date(String(record?.time)).toISOString()).toBe(record?.time);
    }
    expect(lines().join('\n')).not.toMatch(/whsec_1|:pw@/);
  });

  it('prints errors with their stack in JSON', () => {
    const { stream, lines } = sink();
    const logger = createLogger({ logFormat: 'json', logLevel: 'error' }, stream);
    const error = new Error('boom');
    logger.error('failed', error.stack, 'Worker');
    const record = JSON.parse(lines()[0]) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'error', context: 'Worker', msg: 'failed' });
    expect(JSON.stringify(record)).toContain('boom');
    expect(JSON.stringify(record)).toContain('app.logger.spec');
  });

  it.each([
    ['warn', ['warn', 'error']],
    ['log', ['info', 'warn', 'error']],
    ['verbose', ['trace', 'debug', 'info', 'warn', 'error']],
  ] as const)('LOG_LEVEL=%s writes %j', (level, expected) => {
    const { stream, lines } = sink();
    const logger = createLogger({ logFormat: 'json', logLevel: level }, stream);
    logger.verbose?.('chatter');
    logger.debug?.('noise');
    logger.log('info');
    logger.warn('careful');
    logger.error('bad');
    expect(lines().map((line) => (JSON.parse(line) as { level: string }).level)).toEqual(expected);
  });

  it('prints readable text in pretty mode, still redacted', () => {
    const { stream, lines } = sink();
    const logger = createLogger({ logFormat: 'pretty', logLevel: 'log' }, stream);
    logger.log('hello Bearer abc.def', 'Main');
    expect(lines()).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z LOG \[Main\] hello Bearer \[redacted\]$/),
    ]);
  });
});
