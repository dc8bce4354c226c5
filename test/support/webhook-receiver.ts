import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A local webhook subscriber for tests and benchmarks: it records every request, checks its
 * X-Trailsight-Signature with its own few lines of HMAC (independent of the signer under test),
 * answers as told (200, any status, slowly, never, or with a redirect), and can go down and
 * come back on the same port.
 */
export interface ReceivedWebhook {
  event: string;
  deliveryId: string;
  signature: string;
  rawBody: string;
  body: {
    id: string;
    'detail-type': string;
    source: string;
    account: string;
    region: string;
    time: string;
    detail: { eventID?: string; sharedEventID?: string; insightDetails?: { state?: string } } & Record<string, unknown>;
  } & Record<string, unknown>;
  headers: IncomingMessage['headers'];
  /** Whether the signature matched this receiver's secret (and its timestamp is within 5 minutes). */
  signatureValid: boolean;
  receivedAt: number;
  /** What the receiver answered. */
  answered: number | 'hang';
}

export type Behaviour =
  | { kind: 'status'; status: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'hang' }
  | { kind: 'redirect'; location: string };

export interface WebhookReceiver {
  url: string;
  port: number;
  readonly requests: ReceivedWebhook[];
  /** Requests answered 2xx: what the subscriber actually accepted. */
  accepted(): ReceivedWebhook[];
  /** How to answer from now on; a function picks per request. */
  respond(behaviour: Behaviour | ((request: number) => Behaviour)): void;
  /** Resolves once `check(requests)` holds (checked on every request), or rejects after timeoutMs. */
  waitFor(
    what: string,
    check: (requests: ReceivedWebhook[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedWebhook[]>;
  /** Stops listening (connections dropped): deliveries fail with ECONNREFUSED. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export const OK: Behaviour = { kind: 'status', status: 200 };

/** Verifies `t=<unix seconds>,v1=<hex>` against HMAC-SHA256(secret, "<t>.<raw body>"), as the README shows. */
export function verifyTrailsightSignature(
  secret: string,
  rawBody: string,
  header: string,
  toleranceSeconds = 300,
): boolean {
  const pairs = header.split(',').map((kv) => kv.split('=', 2) as [string, string | undefined]);
  const t = Number(pairs.find(([key]) => key === 't')?.[1]);
  // One v1= per signing secret (two while a rotated-out secret is in its grace period).
  const signatures = pairs.filter(([key, value]) => key === 'v1' && value).map(([, value]) => value ?? '');
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds || signatures.length === 0)
    return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  return signatures.some((v1) => {
    const given = Buffer.from(v1, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export async function startWebhookReceiver(
  options: { secret?: string; port?: number; host?: string } = {},
): Promise<WebhookReceiver> {
  const host = options.host ?? '127.0.0.1';
  const requests: ReceivedWebhook[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  let choose: (request: number) => Behaviour = () => OK;
  let server: Server | undefined;
  let port = options.port ?? 0;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const behaviour = choose(requests.length);
      const signature = String(req.headers['x-trailsight-signature'] ?? '');
      let body: ReceivedWebhook['body'];
      try {
        body = JSON.parse(rawBody) as ReceivedWebhook['body'];
      } catch {
        body = {} as ReceivedWebhook['body'];
      }
      requests.push({
        event: String(req.headers['x-trailsight-event'] ?? ''),
        deliveryId: String(req.headers['x-trailsight-delivery'] ?? ''),
        signature,
        rawBody,
        body,
        headers: req.headers,
        signatureValid: options.secret ? verifyTrailsightSignature(options.secret, rawBody, signature) : false,
        receivedAt: Date.now(),
        answered:
          behaviour.kind === 'hang'
            ? 'hang'
            : behaviour.kind === 'status'
              ? behaviour.status
              : behaviour.kind === 'slow'
                ? 200
                : 302,
      });
      for (const wake of [...waiters]) wake();
      switch (behaviour.kind) {
        case 'status':
          res.writeHead(behaviour.status, { 'content-type': 'text/plain' }).end(behaviour.status < 300 ? 'ok' : 'nope');
          return;
        case 'slow':
          setTimeout(() => res.writeHead(200).end('ok'), behaviour.delayMs);
          return;
        case 'redirect':
          res.writeHead(302, { location: behaviour.location }).end();
          return;
        case 'hang':
          return;
      }
    });
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer(handle);
      server.keepAliveTimeout = 1_000;
      server.on('connection', (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      server.once('error', reject);
      server.listen(port, host, () => {
        const address = server?.address();
        if (typeof address === 'object' && address) port = address.port;
        resolve();
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      const closing = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      closing.close(() => resolve());
    });

  await listen();
  const receiver: WebhookReceiver = {
    url: `http://${host}:${port}/hook`,
    port,
    requests,
    accepted: () => requests.filter((r) => typeof r.answered === 'number' && r.answered < 300),
    respond(behaviour) {
      choose = typeof behaviour === 'function' ? behaviour : () => behaviour;
    },
    waitFor(what, check, timeoutMs = 20_000) {
      if (check(requests)) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(
            new Error(
              `receiver ${port}: timed out after ${timeoutMs} ms waiting for ${what}; got ${requests.length} requests: ${requests.map((r) => `${r.event}/${r.answered}`).join(', ')}`,
            ),
          );
        }, timeoutMs);
        const wake = () => {
          if (!check(requests)) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(requests);
        };
        waiters.add(wake);
      });
    },
    down: stop,
    up: listen,
    close: stop,
  };
  return receiver;
}
