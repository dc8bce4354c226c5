import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

/**
 * The baseline of `npm run bench:api`: a bare Node http server that answers every request with
 * the same page of findings, serialised with JSON.stringify each time (no framework, no auth,
 * no Redis). Env: BENCH_PAGE_FILE (the page as JSON). Prints `{"port": ...}` once listening.
 */
const page: unknown = JSON.parse(readFileSync(process.env.BENCH_PAGE_FILE ?? '', 'utf8'));
const server = createServer((_request, response) => {
  const body = JSON.stringify(page);
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
process.once('disconnect', () => process.exit(0));
