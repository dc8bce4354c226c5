import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One entry EventBridge would have accepted. */
export interface ReceivedEntry {
  EventBusName?: string;
  Source: string;
  DetailType: string;
  Detail: string;
  Time?: number | string;
  Resources?: string[];
}

/** A request that broke the PutEvents contract: what was wrong (a test expects none). */
export interface InvalidRequest {
  problem: string;
}

/**
 * A local stand-in for EventBridge's PutEvents, checking each request as AWS would: POST `/`,
 * AWS JSON 1.1 (`Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: AWSEvents.PutEvents`),
 * a SigV4 `Authorization` header scoped to the `events` service, 1-10 entries each with Source,
 * DetailType and Detail (a JSON object as a string), none with a source starting `aws.`, and at
 * most 256 KB in all (counted as PutEvents counts: Time 14 bytes, Source, DetailType, Detail,
 * Resources). It can answer the next requests with throttling or fail chosen entries.
 */
export interface EventBridgeReceiver {
  url: string;
  accepted: ReceivedEntry[];
  invalid: InvalidRequest[];
  /** Requests seen (valid or not, throttled included). */
  requests: number;
  /** The next `count` requests are answered 400 ThrottlingException. */
  throttleNext(count: number): void;
  /** The next entries (in arrival order) fail with these error codes, one code per entry. */
  failNextEntries(codes: string[]): void;
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 256 * 1024;

export async function startEventBridgeReceiver(): Promise<EventBridgeReceiver> {
  let throttles = 0;
  const failures: string[] = [];
  const state: Omit<EventBridgeReceiver, 'url' | 'close' | 'throttleNext' | 'failNextEntries'> = {
    accepted: [],
    invalid: [],
    requests: 0,
  };

  const error = (res: ServerResponse, status: number, type: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ __type: type, message }));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    state.requests++;
    const invalid = (problem: string) => {
      state.invalid.push({ problem });
      error(res, 400, 'ValidationException', problem);
    };
    if (req.method !== 'POST' || req.url !== '/') return invalid(`${req.method} ${req.url}: PutEvents is POST /`);
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
      return invalid(`content-type ${req.headers['content-type']}`);
    if (req.headers['x-amz-target'] !== 'AWSEvents.PutEvents')
      return invalid(`target ${String(req.headers['x-amz-target'])}`);
    const auth = req.headers.authorization ?? '';
    if (
      !/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/events\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.test(
        auth,
      )
    )
      return invalid(`Authorization is not SigV4 for events: ${auth || '(none)'}`);
    if (!req.headers['x-amz-date']) return invalid('X-Amz-Date is missing');
    let body: { Entries?: ReceivedEntry[] };
    try {
      body = JSON.parse(raw) as { Entries?: ReceivedEntry[] };
    } catch {
      return invalid('body is not JSON');
    }
    const entries = body.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10)
      return invalid(`Entries must hold 1 to 10 entries, got ${Array.isArray(entries) ? entries.length : 'none'}`);
    let bytes = 0;
    for (const [i, entry] of entries.entries()) {
      for (const field of ['Source', 'DetailType', 'Detail'] as const)
        if (typeof entry[field] !== 'string' || entry[field] === '')
          return invalid(`Entries[${i}].${field} is missing`);
      try {
        const detail: unknown = JSON.parse(entry.Detail);
        if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
          return invalid(`Entries[${i}].Detail is not a JSON object`);
      } catch {
        return invalid(`Entries[${i}].Detail is not JSON`);
      }
      bytes +=
        14 +
        Buffer.byteLength(entry.Source) +
        Buffer.byteLength(entry.DetailType) +
        Buffer.byteLength(entry.Detail) +
        (entry.Resources ?? []).reduce((sum, r) => sum + Buffer.byteLength(r), 0);
    }
    if (bytes > MAX_REQUEST_BYTES) return invalid(`request is ${bytes} bytes, more than 256 KB`);
    if (throttles > 0) {
      throttles--;
      return error(res, 400, 'ThrottlingException', 'Rate exceeded');
    }
    const results = entries.map((entry) => {
      if (entry.Source.startsWith('aws.'))
        return {
          ErrorCode: 'NotAuthorizedForSourceException',
          ErrorMessage: `Not authorized for the source ${entry.Source}`,
        };
      const code = failures.shift();
      if (code) return { ErrorCode: code, ErrorMessage: `injected ${code}` };
      state.accepted.push(entry);
      return { EventId: randomUUID() };
    });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results }));
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    throttleNext(count: number) {
      throttles = count;
    },
    failNextEntries(codes: string[]) {
      failures.push(...codes);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
