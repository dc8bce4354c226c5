import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * Local stand-ins for Slack incoming webhooks, Teams Workflows webhooks and PagerDuty's Events
 * API v2 that CHECK each request against the vendor's documented format and limits, written
 * from the vendors' docs (independent of the formatters under test). A request that breaks a
 * rule is answered 400 with the problems, as the vendor would refuse it, and kept with them.
 */
export type Vendor = 'slack' | 'teams' | 'pagerduty';

export interface VendorRequest {
  body: Record<string, unknown>;
  rawBody: string;
  /** Empty when the request follows the vendor's format. */
  problems: string[];
  receivedAt: number;
}

export interface VendorReceiver {
  vendor: Vendor;
  url: string;
  readonly requests: VendorRequest[];
  /** Requests that followed the format (answered 2xx). */
  valid(): VendorRequest[];
  waitFor(what: string, check: (requests: VendorRequest[]) => boolean, timeoutMs?: number): Promise<VendorRequest[]>;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isUrl = (value: unknown) => {
  try {
    return isText(value) && ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
};

/** Slack Block Kit (api.slack.com/reference/block-kit/blocks, /reference/messaging/payload). */
export function slackProblems(body: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(body)) return ['body is not a JSON object'];
  if (!isText(body.text) && !Array.isArray(body.blocks)) problems.push('text or blocks required');
  if (body.text !== undefined && !isText(body.text)) problems.push('text must be a non-empty string');
  if (body.blocks === undefined) return problems;
  if (!Array.isArray(body.blocks)) return [...problems, 'blocks must be an array'];
  if (body.blocks.length > 50) problems.push(`${body.blocks.length} blocks, at most 50`);
  const textObject = (where: string, value: unknown, max: number, types = ['plain_text', 'mrkdwn']) => {
    if (!isObject(value) || !types.includes(String(value.type)) || !isText(value.text)) {
      problems.push(`${where} must be a text object of type ${types.join(' or ')}`);
    } else if (value.text.length > max) problems.push(`${where} has ${value.text.length} characters, at most ${max}`);
  };
  body.blocks.forEach((block: unknown, i) => {
    const at = `blocks[${i}]`;
    if (!isObject(block)) return problems.push(`${at} is not an object`);
    switch (block.type) {
      case 'header':
        return textObject(`${at}.text`, block.text, 150, ['plain_text']);
      case 'section': {
        if (block.text === undefined && block.fields === undefined) problems.push(`${at} needs text or fields`);
        if (block.text !== undefined) textObject(`${at}.text`, block.text, 3000);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields) || block.fields.length > 10) problems.push(`${at}.fields: at most 10`);
          else block.fields.forEach((f: unknown, j) => textObject(`${at}.fields[${j}]`, f, 2000));
        }
        return;
      }
      case 'context':
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10) {
          return problems.push(`${at}.elements: 1 to 10`);
        }
        return block.elements.forEach((e: unknown, j) => textObject(`${at}.elements[${j}]`, e, 3000));
      case 'actions':
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 25) {
          return problems.push(`${at}.elements: 1 to 25`);
        }
        return block.elements.forEach((e: unknown, j) => {
          if (!isObject(e) || e.type !== 'button') return problems.push(`${at}.elements[${j}] must be a button`);
          textObject(`${at}.elements[${j}].text`, e.text, 75, ['plain_text']);
          if (e.url !== undefined && (!isUrl(e.url) || (e.url as string).length > 3000)) {
            problems.push(`${at}.elements[${j}].url invalid`);
          }
        });
      case 'divider':
        return;
      default:
        return problems.push(`${at}: unknown block type ${String(block.type)}`);
    }
  });
  return problems;
}

/** A Teams message carrying Adaptive Cards (learn.microsoft.com: "Create Incoming Webhooks", card limits). */
export function teamsProblems(body: unknown, rawBytes: number): string[] {
  const problems: string[] = [];
  if (rawBytes > 28 * 1024) problems.push(`message of ${rawBytes} bytes, at most 28 KB`);
  if (!isObject(body)) return ['body is not a JSON object'];
  if (body.type !== 'message') problems.push('type must be "message"');
  if (!Array.isArray(body.attachments) || body.attachments.length === 0) return [...problems, 'attachments required'];
  body.attachments.forEach((attachment: unknown, i) => {
    const at = `attachments[${i}]`;
    if (!isObject(attachment)) return problems.push(`${at} is not an object`);
    if (attachment.contentType !== 'application/vnd.microsoft.card.adaptive') {
      problems.push(`${at}.contentType must be application/vnd.microsoft.card.adaptive`);
    }
    const card = attachment.content;
    if (!isObject(card)) return problems.push(`${at}.content must be an Adaptive Card`);
    if (card.type !== 'AdaptiveCard') problems.push(`${at}.content.type must be AdaptiveCard`);
    if (!isText(card.version) || !/^1\.[0-6]$/.test(card.version)) problems.push(`${at}.content.version 1.0-1.6`);
    if (!Array.isArray(card.body) || card.body.length === 0) return problems.push(`${at}.content.body required`);
    card.body.forEach((element: unknown, j) => {
      const where = `${at}.content.body[${j}]`;
      if (!isObject(element)) return problems.push(`${where} is not an object`);
      if (element.type === 'TextBlock') {
        if (!isText(element.text)) problems.push(`${where}.text required`);
      } else if (element.type === 'FactSet') {
        const facts = element.facts;
        if (!Array.isArray(facts) || facts.some((f) => !isObject(f) || !isText(f.title) || !isText(f.value))) {
          problems.push(`${where}.facts must be {title, value} strings`);
        }
      } else problems.push(`${where}: unexpected element ${String(element.type)}`);
    });
    for (const [j, action] of ((card.actions as unknown[] | undefined) ?? []).entries()) {
      if (!isObject(action) || action.type !== 'Action.OpenUrl' || !isUrl(action.url) || !isText(action.title)) {
        problems.push(`${at}.content.actions[${j}] must be an Action.OpenUrl with title and url`);
      }
    }
  });
  return problems;
}

/** PagerDuty Events API v2 (developer.pagerduty.com, "Send an Alert Event" / "Resolve"). */
export function pagerDutyProblems(body: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(body)) return ['body is not a JSON object'];
  if (!isText(body.routing_key) || body.routing_key.length !== 32) problems.push('routing_key: 32 characters');
  if (!['trigger', 'acknowledge', 'resolve'].includes(String(body.event_action))) problems.push('event_action invalid');
  if (!isText(body.dedup_key) || body.dedup_key.length > 255) problems.push('dedup_key: 1 to 255 characters');
  if (body.event_action !== 'trigger') return problems;
  const payload = body.payload;
  if (!isObject(payload)) return [...problems, 'payload required for trigger'];
  if (!isText(payload.summary) || payload.summary.length > 1024) problems.push('payload.summary: 1 to 1024 characters');
  if (!isText(payload.source)) problems.push('payload.source required');
  if (!['critical', 'error', 'warning', 'info'].includes(String(payload.severity))) {
    problems.push('payload.severity: critical, error, warning or info');
  }
  if (payload.timestamp !== undefined && (!isText(payload.timestamp) || Number.isNaN(Date.parse(payload.timestamp)))) {
    problems.push('payload.timestamp must be ISO 8601');
  }
  for (const link of (body.links as unknown[] | undefined) ?? []) {
    if (!isObject(link) || !isUrl(link.href)) problems.push('links[].href must be a URL');
  }
  return problems;
}

export async function startVendorReceiver(vendor: Vendor): Promise<VendorReceiver> {
  const requests: VendorRequest[] = [];
  const waiters = new Set<() => void>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      let problems: string[];
      try {
        body = JSON.parse(rawBody);
        problems =
          String(req.headers['content-type']).startsWith('application/json') === false
            ? ['content-type must be application/json']
            : vendor === 'slack'
              ? slackProblems(body)
              : vendor === 'teams'
                ? teamsProblems(body, Buffer.byteLength(rawBody))
                : pagerDutyProblems(body);
      } catch {
        body = {};
        problems = ['body is not JSON'];
      }
      requests.push({ body: body as Json, rawBody, problems, receivedAt: Date.now() });
      for (const wake of [...waiters]) wake();
      if (problems.length > 0) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(problems.join('; '));
      } else if (vendor === 'pagerduty') {
        const dedupKey = (body as Json).dedup_key;
        res
          .writeHead(202, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: dedupKey }));
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(vendor === 'slack' ? 'ok' : '1');
      }
    });
  };
  const server: Server = createServer(handle);
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    vendor,
    url: `http://127.0.0.1:${port}/${vendor === 'pagerduty' ? 'v2/enqueue' : 'hook/T000/B000/token'}`,
    requests,
    valid: () => requests.filter((r) => r.problems.length === 0),
    waitFor(what, check, timeoutMs = 20_000) {
      if (check(requests)) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const wake = () => {
          if (!check(requests)) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(requests);
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          const got = requests.map((r) => (r.problems.length ? `invalid(${r.problems.join('; ')})` : 'valid'));
          reject(
            new Error(`${vendor} receiver: timed out after ${timeoutMs} ms waiting for ${what}; got ${got.join(', ')}`),
          );
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
