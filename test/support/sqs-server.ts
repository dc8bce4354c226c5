import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * A minimal SQS endpoint for tests, speaking the AWS JSON 1.0 protocol that @aws-sdk/client-sqs
 * 3.x uses (`X-Amz-Target: AmazonSQS.<Operation>`, `application/x-amz-json-1.0`): SendMessage,
 * ReceiveMessage (with a visibility timeout, no long polling), DeleteMessage, DeleteMessageBatch.
 * No SQS-compatible server installs from npm or Debian here, so this stands in for one; the
 * real SDK client talks to it (it checks the MD5 digests this server returns).
 */
export interface LocalSqs {
  url: string;
  /** Queue URL of a queue (queues exist on first use). */
  queueUrl(name: string): string;
  /** Messages still in a queue (visible or in flight). */
  size(name: string): number;
  stop(): Promise<void>;
}

interface StoredMessage {
  id: string;
  body: string;
  receipt?: string;
  invisibleUntil: number;
}

export async function startSqs(visibilityTimeoutMs = 30_000): Promise<LocalSqs> {
  const queues = new Map<string, StoredMessage[]>();
  const queueOf = (url: unknown): StoredMessage[] => {
    const name = String(url).split('/').pop() ?? '';
    let queue = queues.get(name);
    if (!queue) queues.set(name, (queue = []));
    return queue;
  };
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');

  const handle = (operation: string, input: Record<string, unknown>): [number, unknown] => {
    const queue = queueOf(input.QueueUrl);
    switch (operation) {
      case 'SendMessage': {
        const body = typeof input.MessageBody === 'string' ? input.MessageBody : '';
        const id = randomUUID();
        queue.push({ id, body, invisibleUntil: 0 });
        return [200, { MessageId: id, MD5OfMessageBody: md5(body) }];
      }
      case 'ReceiveMessage': {
        const max = Math.min(10, Number(input.MaxNumberOfMessages ?? 1));
        const now = Date.now();
        const messages = queue.filter((m) => m.invisibleUntil <= now).slice(0, max);
        for (const m of messages) {
          m.receipt = randomUUID();
          m.invisibleUntil = now + visibilityTimeoutMs;
        }
        return [
          200,
          {
            Messages: messages.map((m) => ({
              MessageId: m.id,
              ReceiptHandle: m.receipt,
              MD5OfBody: md5(m.body),
              Body: m.body,
            })),
          },
        ];
      }
      case 'DeleteMessage': {
        const index = queue.findIndex((m) => m.receipt === input.ReceiptHandle);
        if (index >= 0) queue.splice(index, 1);
        return [200, {}];
      }
      case 'DeleteMessageBatch': {
        const entries = (input.Entries ?? []) as Array<{ Id: string; ReceiptHandle: string }>;
        for (const entry of entries) {
          const index = queue.findIndex((m) => m.receipt === entry.ReceiptHandle);
          if (index >= 0) queue.splice(index, 1);
        }
        return [200, { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] }];
      }
      default:
        return [400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `${operation} is not supported` }];
    }
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      let status: number;
      let body: unknown;
      try {
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        [status, body] = handle(target.replace(/^AmazonSQS\./, ''), input);
      } catch {
        [status, body] = [400, { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'invalid JSON' }];
      }
      const text = JSON.stringify(body);
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': Buffer.byteLength(text),
        'x-amzn-requestid': randomUUID(),
      });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    url,
    queueUrl: (name) => `${url}/123456789012/${name}`,
    size: (name) => queues.get(name)?.length ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
