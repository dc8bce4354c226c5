import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of an S3-compatible server (s3rver) that answers reads of chosen keys
 * as S3 does when the caller may list the bucket but not read the object (an IAM policy or a KMS
 * key it may not use): 403 AccessDenied. Everything else passes through unchanged, so the real
 * @aws-sdk/client-s3 lists the object and fails only on reading it. Path-style addressing.
 */
export interface S3FaultProxy {
  url: string;
  /** Reads of this key (in any bucket) answer 403 AccessDenied from now on. */
  deny(key: string): void;
  /** Reads refused so far. */
  refused(): number;
  stop(): Promise<void>;
}

const ACCESS_DENIED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message>' +
  '<RequestId>S3FAULTPROXY</RequestId></Error>';

export async function startS3FaultProxy(upstream: string): Promise<S3FaultProxy> {
  const target = new URL(upstream);
  const denied = new Set<string>();
  let refused = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    // `/<bucket>/<key>`: a read of one object (not a listing, which has no key or a list-type query).
    const key = decodeURIComponent(url.pathname.split('/').slice(2).join('/'));
    if ((req.method === 'GET' || req.method === 'HEAD') && key !== '' && denied.has(key)) {
      refused++;
      req.resume();
      res.writeHead(403, { 'content-type': 'application/xml', 'x-amz-request-id': 'S3FAULTPROXY' });
      res.end(req.method === 'HEAD' ? undefined : ACCESS_DENIED);
      return;
    }
    const forward = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deny: (key) => void denied.add(key),
    refused: () => refused,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
