import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Queue } from 'bullmq';
import {
  REJECT_REASONS,
  listTrailFiles,
  parseRecordsBuffer,
  parseRecordsText,
  readRecordsFile,
  type ReadResult,
  streamSlimEvents,
} from '@trailsight/cloudtrail';
import { bullPrefix, DEFAULT_TRAIL_FILE_MAX_BYTES, workerConnectionOptions } from '@trailsight/core';
import { QueueName } from '@trailsight/queue';
import type { Pipeline } from './pipeline.js';
import { http, sleep, waitFor } from './processes.js';
import { check, type Report } from './report.js';
import { fetchRoutes, INJECTIONS, rawRequest } from './routes.js';

export interface BadInputContext {
  pipeline: Pipeline;
  apiUrl: string;
  adminKey: string;
  readKey: string;
  phase: 'offline' | 'online';
}

const DATASET = new URL('../shared/datasets/grycap-cloudtrail-tracker', `file://${process.cwd()}/`).pathname;

export async function runBadInputScenarios(report: Report, ctx: BadInputContext): Promise<void> {
  if (ctx.phase === 'offline') {
    await parserFuzz(report);
    await gzipBombs(report);
  } else {
    await malformedJobs(report, ctx);
    await restFuzz(report, ctx);
  }
}

/** A small seeded generator, so a failing mutation can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FIELDS = [
  'eventTime',
  'eventName',
  'eventSource',
  'eventID',
  'eventVersion',
  'awsRegion',
  'recipientAccountId',
  'userIdentity',
  'userAgent',
  'errorCode',
  'readOnly',
  'requestParameters',
  'sourceIPAddress',
];
const WRONG_VALUES: unknown[] = [
  null,
  0,
  -1,
  1e308,
  true,
  [],
  {},
  [1, 2],
  { nested: { x: 1 } },
  '',
  ' ',
  'x'.repeat(300),
  '2014-13-45T99:99:99Z',
];

type Mutation = (record: Record<string, unknown>, random: () => number) => string | Buffer;

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)];

/** Each mutation returns one NDJSON line (text, or bytes for invalid UTF-8). */
const MUTATIONS: Record<string, Mutation> = {
  'wrong-type': (r, random) => JSON.stringify({ ...r, [pick(FIELDS, random)]: pick(WRONG_VALUES, random) }),
  'missing-field': (r, random) => {
    const copy = { ...r };
    delete copy[pick(FIELDS, random)];
    if (random() < 0.3) delete copy[pick(FIELDS, random)];
    return JSON.stringify(copy);
  },
  'huge-string': (r, random) =>
    JSON.stringify({
      ...r,
      [pick(['userAgent', 'eventName', 'errorCode', 'sourceIPAddress'], random)]: 'A'.repeat(2_000_000),
    }),
  'deep-nesting': (r, random) => {
    const depth = pick([1_000, 20_000, 200_000], random);
    const line = JSON.stringify({ ...r, requestParameters: '@@' });
    return line.replace('"@@"', `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
  },
  'deep-array': (r) => {
    const line = JSON.stringify({ ...r, responseElements: '@@' });
    return line.replace('"@@"', `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
  },
  'invalid-utf8': (r, random) => {
    const bytes = Buffer.from(JSON.stringify(r));
    const bad = pick(
      [
        Buffer.from([0xff]),
        Buffer.from([0xc3, 0x28]),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
      ],
      random,
    );
    // Inside the eventName value (or anywhere, sometimes), so both decoding paths are hit.
    const at = random() < 0.7 ? bytes.indexOf('"eventName":"') + 13 : Math.floor(random() * bytes.length);
    return Buffer.concat([bytes.subarray(0, at), bad, bytes.subarray(at)]);
  },
  'not-a-record': (_r, random) =>
    JSON.stringify(pick([null, 42, 'text', [1, 2, 3], true, [], { Records: 'x' }], random)),
  'truncated-json': (r, random) => {
    const line = JSON.stringify(r);
    return line.slice(0, 1 + Math.floor(random() * (line.length - 1)));
  },
  'prototype-keys': (r) =>
    `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},${JSON.stringify(r).slice(1)}`,
  'control-characters': (r) => JSON.stringify({ ...r, eventName: 'Run\u0000Inst\r\nances', userAgent: '\u202e\ud800' }),
  'injection-strings': (r, random) =>
    JSON.stringify({ ...r, eventName: pick(INJECTIONS, random), eventSource: pick(INJECTIONS, random) }),
};

async function datasetRecords(limit: number): Promise<Array<Record<string, unknown>>> {
  const records: Array<Record<string, unknown>> = [];
  for await (const path of listTrailFiles(DATASET)) {
    const { records: read } = await readRecordsFile(path);
    for (const record of read) records.push(JSON.parse(JSON.stringify(record)) as Record<string, unknown>);
    if (records.length >= limit) break;
  }
  return records.slice(0, limit);
}

function checkResult(result: ReadResult, lines: number, what: string): string[] {
  const problems: string[] = [];
  if (result.records.length + result.rejects.length !== lines)
    problems.push(`${what}: ${result.records.length} records + ${result.rejects.length} rejects != ${lines} lines`);
  for (const reject of result.rejects) {
    if (!(REJECT_REASONS as readonly string[]).includes(reject.reason) || !reject.detail)
      problems.push(`${what}: reject without a reason: ${JSON.stringify(reject).slice(0, 200)}`);
  }
  return problems;
}

async function parserFuzz(report: Report): Promise<void> {
  if (!existsSync(DATASET)) {
    report.skip(
      'bad-input/parser-mutation-fuzz',
      `${DATASET} is absent (public dataset grycap-cloudtrail-tracker); skipped`,
    );
    return;
  }
  await report.scenario('bad-input/parser-mutation-fuzz', async (figures) => {
    const originals = await datasetRecords(400);
    check(originals.length >= 100, `only ${originals.length} records in the dataset`);
    const random = seeded(20261130);
    const problems: string[] = [];
    let mutated = 0;
    let parsed = 0;
    let rejected = 0;
    let thrown = 0;
    for (const [name, mutate] of Object.entries(MUTATIONS)) {
      const lines: Buffer[] = [];
      for (const record of originals.slice(
        0,
        name === 'huge-string' || name.startsWith('deep') ? 25 : originals.length,
      )) {
        const line = mutate(record, random);
        lines.push(Buffer.isBuffer(line) ? line : Buffer.from(line));
      }
      // Every mutated record follows a clean one: a file that does not start like JSON at all is
      // refused whole (unknown-format, by design); here the mutations sit inside files.
      const clean = originals.slice(0, lines.length).map((r) => Buffer.from(JSON.stringify(r)));
      const ndjson = Buffer.concat(lines.flatMap((line, i) => [clean[i], Buffer.from('\n'), line, Buffer.from('\n')]));
      const count = lines.length * 2;
      mutated += lines.length;
      for (const [how, run] of [
        ['buffer', () => parseRecordsBuffer(ndjson, `fuzz:${name}`)],
        ['gzip', () => parseRecordsBuffer(gzipSync(ndjson, { level: 1 }), `fuzz:${name}.gz`)],
        ['text', () => parseRecordsText(ndjson.toString('utf8'), `fuzz:${name}`)],
      ] as const) {
        try {
          const result = run();
          problems.push(...checkResult(result, count, `${name}/${how}`));
          if (how === 'buffer') {
            parsed += result.records.length - lines.length;
            rejected += result.rejects.length;
            // The clean twins must all survive their mutated neighbours.
            if (result.records.length < lines.length) problems.push(`${name}: clean records lost`);
          }
        } catch (error) {
          thrown++;
          problems.push(`${name}/${how} threw ${String(error).slice(0, 200)}`);
        }
      }
      // The same records in one {"Records":[...]} document (where the JSON still parses).
      if (!name.startsWith('deep') && name !== 'invalid-utf8' && name !== 'truncated-json') {
        const doc = `{"Records":[${lines.map((l) => l.toString('utf8')).join(',')}]}`;
        try {
          problems.push(...checkResult(parseRecordsText(doc, `fuzz:${name}:doc`), lines.length, `${name}/document`));
        } catch (error) {
          thrown++;
          problems.push(`${name}/document threw ${String(error).slice(0, 200)}`);
        }
      }
    }
    figures.originals = originals.length;
    figures.mutated = mutated;
    figures.mutated_parsed = parsed;
    figures.rejected = rejected;
    figures.thrown = thrown;
    check(problems.length === 0, `${problems.length} problems: ${problems.slice(0, 5).join(' | ')}`);
  });
}

async function gzipBombs(report: Report): Promise<void> {
  await report.scenario('bad-input/gzip-bombs-and-broken-archives', async (figures) => {
    const problems: string[] = [];
    const rssBefore = process.memoryUsage().rss;
    // 512 MiB of spaces inside a JSON string, as 32 gzip members of 16 MiB (~16 KB each, built
    // without ever holding the 512 MiB), refused past a 16 MiB limit.
    const spaces = gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20), { level: 9 });
    const bomb = Buffer.concat([
      gzipSync(Buffer.from('{"Records":[{"eventName":"')),
      ...Array<Buffer>(32).fill(spaces),
    ]);
    figures.bomb_kb = Math.round(bomb.length / 1024);
    const limited = parseRecordsBuffer(bomb, 'bomb.json.gz', { maxInputBytes: 16 * 1024 * 1024 });
    figures.bomb_reject = limited.rejects[0]?.reason ?? 'none';
    if (limited.records.length !== 0 || limited.rejects.length !== 1 || limited.rejects[0]?.reason !== 'too-large')
      problems.push(`bomb under a 16 MiB limit: ${JSON.stringify(limited.rejects).slice(0, 200)}`);
    // The same bomb, CloudTrail's form this time, through the trail-file reader's stream with no
    // limit given: it stops at TRAIL_FILE_MAX_BYTES' default, not after the whole 512 MiB.
    const streamedBomb = Buffer.concat([gzipSync(Buffer.from('{"Records":[')), ...Array<Buffer>(32).fill(spaces)]);
    const streamed: string[] = [];
    for await (const part of streamSlimEvents(streamedBomb, 'streamed-bomb.json.gz', undefined))
      streamed.push(...part.rejects.map((r) => `${r.reason}: ${r.detail}`));
    figures.streamed_bomb_reject = streamed.join(' | ');
    if (
      streamed.length !== 1 ||
      streamed[0] !== `too-large: decompresses to more than the limit of ${DEFAULT_TRAIL_FILE_MAX_BYTES} bytes`
    )
      problems.push(`streamed bomb under the default limit: ${streamed.join(' | ').slice(0, 200)}`);
    // Nested gzip (a .gz inside a .gz) is not unpacked twice: it is an unknown format, not a loop.
    const nested = parseRecordsBuffer(gzipSync(gzipSync(Buffer.from('{"Records":[]}'))), 'nested.gz');
    if (nested.rejects.length !== 1) problems.push(`nested gzip: ${JSON.stringify(nested)}`);
    // Truncated and corrupted archives.
    const good = gzipSync(Buffer.from(JSON.stringify({ Records: [{ eventName: 'X' }] })));
    for (const [name, buf] of [
      ['truncated', good.subarray(0, good.length - 10)],
      ['corrupt', Buffer.concat([good.subarray(0, 12), Buffer.alloc(20, 0xaa), good.subarray(32)])],
      ['header-only', good.subarray(0, 10)],
    ] as const) {
      const result = parseRecordsBuffer(buf, name);
      if (result.rejects.length !== 1 || result.rejects[0]?.reason !== 'malformed-gzip')
        problems.push(`${name}: ${JSON.stringify(result.rejects).slice(0, 200)}`);
    }
    figures.rss_growth_mb = Math.round((process.memoryUsage().rss - rssBefore) / 1024 / 1024);
    check(problems.length === 0, problems.join(' | '));
  });
}

interface BadJob {
  name: string;
  data: unknown;
  /** Events in it that must be parked as rejects. */
  invalidEvents: number;
}

async function malformedJobs(report: Report, ctx: BadInputContext): Promise<void> {
  await report.scenario('bad-input/malformed-jobs-into-bullmq', async (figures) => {
    const { pipeline } = ctx;
    const queue = new Queue(QueueName.Events, {
      connection: workerConnectionOptions(pipeline.redis.url),
      prefix: bullPrefix(pipeline.options.prefix),
    });
    try {
      const source = { accountId: '999999999999', region: 'us-east-1' };
      const good = {
        eventId: 'ok-1',
        eventTimeMs: Date.now(),
        eventSource: 'ec2.amazonaws.com',
        eventName: 'RunInstances',
        readOnly: false,
        identity: 'a',
        userAgent: 'u',
      };
      let deep: unknown = 1;
      for (let i = 0; i < 1_000; i++) deep = { d: deep };
      const jobs: BadJob[] = [
        { name: 'event-batch', data: null, invalidEvents: 1 },
        { name: 'event-batch', data: 'a string', invalidEvents: 1 },
        { name: 'event-batch', data: [], invalidEvents: 1 },
        { name: 'event-batch', data: {}, invalidEvents: 1 },
        { name: 'event-batch', data: { source: null, origin: 'fuzz', events: [good] }, invalidEvents: 1 },
        {
          name: 'event-batch',
          data: { source: { accountId: "' OR 1=1 --", region: '../../etc/passwd' }, events: [good] },
          invalidEvents: 1,
        },
        { name: 'event-batch', data: { source, origin: 'fuzz', events: 'not an array' }, invalidEvents: 1 },
        { name: 'event-batch', data: { source, origin: 'fuzz', events: { $gt: '' } }, invalidEvents: 1 },
        {
          name: 'event-batch',
          data: {
            source,
            origin: 'fuzz',
            events: [
              null,
              7,
              'x',
              [],
              { ...good, eventId: 'bad t', eventTimeMs: 'yesterday' },
              { ...good, eventId: 'nan', eventTimeMs: Number.NaN },
              { ...good, eventId: 'ro', readOnly: 'false' },
              { ...good, eventId: 'crlf', eventName: 'Run\r\nInstances' },
              { ...good, eventId: 'arn', identity: { $gt: '' } },
              { ...good, eventId: 'err', errorCode: '' },
              { ...good, eventId: 'huge', eventSource: 'x'.repeat(1_000_000), eventName: 5 },
              { ...good, eventId: 'deep', userAgent: deep },
              good,
            ],
          },
          invalidEvents: 12,
        },
        { name: 'no-such-job', data: { source, events: [good] }, invalidEvents: 0 },
      ];
      const rejectsBefore = await countRejects(pipeline);
      const added = await Promise.all(
        jobs.map((job, i) =>
          queue.add(job.name as 'event-batch', job.data as never, {
            jobId: `fuzz-${Date.now()}-${i}`,
            attempts: 2,
            backoff: { type: 'fixed', delay: 200 },
            removeOnComplete: false,
            removeOnFail: false,
          }),
        ),
      );
      const states = await waitFor(
        'every malformed job to be completed or failed',
        async () => {
          const all = await Promise.all(added.map((job) => job.getState()));
          return all.every((s) => s === 'completed' || s === 'failed') ? all : undefined;
        },
        60_000,
      );
      const parked = (await countRejects(pipeline)) - rejectsBefore;
      const failed = states.filter((s) => s === 'failed').length;
      figures.jobs = jobs.length;
      figures.completed = states.filter((s) => s === 'completed').length;
      figures.failed_kept = failed;
      figures.rejects_parked = parked;
      const expectedParked = jobs.reduce((sum, job) => sum + job.invalidEvents, 0);
      await pipeline.app('detector').healthy(5_000);
      check(!pipeline.app('detector').crashed(), 'the detector crashed');
      // Unknown job names cannot be parked as events: they fail and stay in the failed set, visible.
      const unparkable = states.filter((s, i) => s === 'failed' && jobs[i].name === 'event-batch').length;
      figures.event_batches_failed = unparkable;
      check(unparkable === 0, `${unparkable} malformed event batches failed instead of being parked`);
      check(parked >= expectedParked, `${parked} rejects parked, expected ${expectedParked}`);
      check(states[states.length - 1] === 'failed', 'an unknown job name did not end in the failed set');
    } finally {
      await queue.close();
    }
  });
}

async function countRejects(pipeline: Pipeline): Promise<number> {
  const counts = await pipeline.client.hgetall(pipeline.keys.rejectCounts());
  return Object.values(counts).reduce((sum, n) => sum + Number(n), 0);
}

async function restFuzz(report: Report, ctx: BadInputContext): Promise<void> {
  await report.scenario('bad-input/rest-parameters-and-bodies', async (figures) => {
    const routes = await fetchRoutes(ctx.apiUrl);
    const admin = { authorization: `Bearer ${ctx.adminKey}` };
    let requests = 0;
    const serverErrors: string[] = [];
    const record = (what: string, status: number, text: string) => {
      requests++;
      if (status >= 500 || status === 0) serverErrors.push(`${what} -> ${status} ${text.slice(0, 120)}`);
    };
    for (const route of routes) {
      // Lone surrogates cannot be percent-encoded: sent as U+FFFD, as any client would.
      const fill = (value: string) =>
        route.path.replace(/\{[^}]+\}/g, encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '\ufffd')));
      for (const injection of INJECTIONS) {
        // Path parameters.
        if (route.path.includes('{')) {
          const r = await http(`${ctx.apiUrl}${fill(injection)}`, { method: route.method, headers: admin });
          record(`${route.method} ${fill(injection)}`, r.status, r.text);
        }
        // Every documented query parameter, plus unknown ones.
        for (const name of [...route.query, 'unknown', '__proto__']) {
          const q = new URLSearchParams({ [name]: injection });
          const r = await http(`${ctx.apiUrl}${fill('nonexistent-id')}?${q.toString()}`, {
            method: route.method,
            headers: admin,
          });
          record(`${route.method} ${route.path}?${name}=${injection}`, r.status, r.text);
        }
      }
      // Repeated and typed-wrong query parameters.
      for (const query of [
        'limit=-1',
        'limit=1e309',
        'limit=abc',
        'limit=1&limit=2',
        'since=9999-99-99',
        'cursor=%00%ff',
        'state[]=open',
        'state[$ne]=x',
        'a'.repeat(20_000) + '=1',
      ]) {
        const r = await http(`${ctx.apiUrl}${fill('x')}?${query}`, { method: route.method, headers: admin });
        record(`${route.method} ${route.path}?${query.slice(0, 40)}`, r.status, r.text);
      }
      if (route.method === 'POST' || route.method === 'PATCH' || route.method === 'PUT') {
        const bodies: Array<[string, string | Buffer, string]> = [
          ['invalid json', '{"url": ', 'application/json'],
          ['array', '[1,2,3]', 'application/json'],
          ['null', 'null', 'application/json'],
          ['number', '42', 'application/json'],
          ['nosql', '{"url":{"$gt":""},"scope":{"$ne":null}}', 'application/json'],
          ['proto', '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}', 'application/json'],
          [
            'wrong types',
            '{"url":12,"secret":[],"events":"insight.start","filter":"x","enabled":"yes","scope":7}',
            'application/json',
          ],
          [
            'huge',
            JSON.stringify({ url: 'https://example.com/', description: 'x'.repeat(3_000_000) }),
            'application/json',
          ],
          ['deep', `${'{"filter":'.repeat(20_000)}{}${'}'.repeat(20_000)}`, 'application/json'],
          ['form', 'url=https://example.com', 'application/x-www-form-urlencoded'],
          ['text', "' OR 1=1 --", 'text/plain'],
          ['binary', Buffer.from([0xff, 0xfe, 0x00, 0x1f, 0x8b]), 'application/octet-stream'],
          ['bad charset', '{"scope":"read"}', 'application/json; charset=utf-42'],
          [
            'injection',
            JSON.stringify({ url: '../../etc/passwd', scope: "' OR 1=1 --", description: '<script>alert(1)</script>' }),
            'application/json',
          ],
        ];
        for (const [name, body, type] of bodies) {
          const r = await http(`${ctx.apiUrl}${fill('x')}`, {
            method: route.method,
            headers: { ...admin, 'content-type': type },
            body,
          });
          // A 3 MB body is refused (413) before it is read; the server may close the connection
          // while the client is still sending, and the client then sees the reset, not the 413.
          // That is a refusal, not a server error, as long as the api still answers.
          const reset = name === 'huge' && r.status === 0 && (await http(`${ctx.apiUrl}/health/live`)).status === 200;
          record(`${route.method} ${route.path} body ${name}`, reset ? 413 : r.status, r.text);
        }
      }
    }
    // CRLF: raw bytes, since fetch refuses them; and encoded CRLF that must not become a header.
    for (const raw of [
      `GET /v1/findings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.readKey}\rX-Injected: 1\r\n\r\n`,
      `GET /v1/findings?cursor=a%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.readKey}\r\n\r\n`,
      `GET /v1/findings/a%0d%0aSet-Cookie:%20x=1 HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${ctx.readKey}\r\n\r\n`,
      `GET /v1/findings HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${ctx.readKey}\nX-Injected: 1\r\n\r\n`,
      `GET /v1/findings HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${'k'.repeat(100_000)}\r\n\r\n`,
    ]) {
      const answer = await rawRequest(ctx.apiUrl, raw);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      record(`raw ${JSON.stringify(raw.slice(0, 50))}`, status, answer);
      const head = answer.split('\r\n\r\n')[0] ?? '';
      if (/^(x-injected|set-cookie):/im.test(head))
        serverErrors.push(`injected header reflected: ${head.slice(0, 200)}`);
    }
    await sleep(200);
    const api = ctx.pipeline.app('api');
    await api.healthy(5_000);
    figures.routes = routes.length;
    figures.requests = requests;
    figures.server_errors = serverErrors.length;
    report.serverErrorsOnBadInput += serverErrors.length;
    check(!api.crashed(), 'the api crashed');
    check(serverErrors.length === 0, serverErrors.slice(0, 5).join(' | '));
  });
}
