import type { Pipeline } from './pipeline.js';
import { http, type HttpResult } from './processes.js';
import { check, type Report } from './report.js';
import { fetchRoutes } from './routes.js';

export interface SecurityContext {
  pipeline: Pipeline;
  apiUrl: string;
  adminKey: string;
  readKey: string;
  webhookSecret: string;
}

/** Routes a read key may call; everything else under /v1 is admin (a route without a scope needs admin). */
const READ_ROUTES =
  /^(GET \/(v1\/findings|v1\/apis|v1\/series|v1\/reference-insights|v1\/keys\/self$|v1\/suppressions|v1\/maintenance-windows|v1\/tuning|metrics)|POST \/v1\/suppressions\/preview$)/;

/** Internal targets a webhook must never reach (SSRF): loopback, private, metadata, and their disguises. */
const INTERNAL_URLS = [
  'http://127.0.0.1/hook',
  'http://localhost:3000/hook',
  'http://[::1]/hook',
  'http://10.0.0.1/hook',
  'http://172.16.5.4/hook',
  'http://192.168.1.1/hook',
  'http://169.254.169.254/latest/meta-data/',
  'http://[fd00:ec2::254]/latest/meta-data/',
  'http://100.64.0.1/hook',
  'http://0.0.0.0/hook',
  'http://2130706433/hook',
  'http://0x7f000001/hook',
  'http://127.1/hook',
  'http://[::ffff:127.0.0.1]/hook',
  'http://[::ffff:a9fe:a9fe]/hook',
  'http://[64:ff9b::a9fe:a9fe]/hook',
  'http://224.0.0.1/hook',
  'file:///etc/passwd',
  'gopher://127.0.0.1:6379/_INFO',
  'http://user:pass@127.0.0.1/hook',
];

export async function runSecurityScenarios(report: Report, ctx: SecurityContext): Promise<void> {
  const errorBodies: string[] = [];
  const keep = (r: HttpResult) => {
    if (r.status >= 400) errorBodies.push(r.text);
    return r;
  };

  await report.scenario('security/every-route-auth-and-scopes', async (figures) => {
    const routes = (await fetchRoutes(ctx.apiUrl)).filter((r) => r.path.startsWith('/v1') || r.path === '/metrics');
    const problems: string[] = [];
    const malformed: Record<string, string>[] = [
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: `Basic ${Buffer.from(`admin:${ctx.adminKey}`).toString('base64')}` },
      { authorization: `bearer  ${ctx.adminKey} extra` },
      { authorization: `Bearer ${ctx.adminKey}x` },
      { authorization: `Bearer ${ctx.adminKey.slice(0, -1)}` },
      { authorization: `Token ${ctx.adminKey}` },
      { authorization: `Bearer ${'k'.repeat(8_000)}` },
      { authorization: 'Bearer \u00f1-\u00fc-\u00ff' },
      { authorization: "Bearer ' OR 1=1 --" },
      { authorization: 'Bearer {"$gt":""}' },
      { 'x-api-key': '' },
      { 'x-api-key': "' OR '1'='1" },
      { 'x-api-key': ctx.adminKey.toUpperCase() },
    ];
    let probes = 0;
    for (const route of routes) {
      const url = `${ctx.apiUrl}${route.path.replace(/\{[^}]+\}/g, 'does-not-exist')}`;
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}';
      const send = (headers: Record<string, string>) =>
        http(url, { method: route.method, headers: { 'content-type': 'application/json', ...headers }, body }).then(
          keep,
        );
      const name = `${route.method} ${route.path}`;
      const none = await send({});
      probes++;
      if (none.status !== 401) problems.push(`${name} without a key: ${none.status}`);
      else if (!/bearer/i.test(none.headers.get('www-authenticate') ?? ''))
        problems.push(`${name}: 401 without WWW-Authenticate`);
      for (const headers of malformed) {
        const r = await send(headers);
        probes++;
        // Node itself refuses a header it cannot read (400/431); anything else must be 401.
        if (![401, 400, 431].includes(r.status))
          problems.push(`${name} with ${JSON.stringify(headers).slice(0, 60)}: ${r.status}`);
      }
      const read = await send({ authorization: `Bearer ${ctx.readKey}` });
      probes++;
      const readable = READ_ROUTES.test(`${route.method} ${route.path}`);
      if (!readable && read.status !== 403) problems.push(`${name} with a read key: ${read.status}, expected 403`);
      if (readable && (read.status === 401 || read.status === 403))
        problems.push(`${name} refused a read key: ${read.status}`);
    }
    figures.routes = routes.length;
    figures.probes = probes;
    check(routes.length >= 10, `only ${routes.length} routes in /docs-json`);
    check(problems.length === 0, problems.slice(0, 6).join(' | '));
  });

  await report.scenario('security/webhook-urls-aimed-at-internal-addresses', async (figures) => {
    // A second api with the production default WEBHOOK_ALLOW_PRIVATE=false, same Redis and keys.
    const strict = await ctx.pipeline.launch('api', 'api-strict', { WEBHOOK_ALLOW_PRIVATE: 'false' });
    const url = `http://127.0.0.1:${strict.port}`;
    const admin = { authorization: `Bearer ${ctx.adminKey}`, 'content-type': 'application/json' };
    const problems: string[] = [];
    for (const target of INTERNAL_URLS) {
      const r = keep(
        await http(`${url}/v1/webhooks`, { method: 'POST', headers: admin, body: JSON.stringify({ url: target }) }),
      );
      if (r.status !== 400) problems.push(`POST ${target}: ${r.status}`);
    }
    // Changing an existing subscription to an internal address is refused the same way.
    const list = JSON.parse((await http(`${url}/v1/webhooks`, { headers: admin })).text) as {
      items: Array<{ id: string }>;
    };
    const existing = list.items[0]?.id;
    check(existing !== undefined, 'no subscription to patch');
    for (const target of INTERNAL_URLS.slice(0, 8)) {
      const r = keep(
        await http(`${url}/v1/webhooks/${existing}`, {
          method: 'PATCH',
          headers: admin,
          body: JSON.stringify({ url: target }),
        }),
      );
      if (r.status !== 400) problems.push(`PATCH ${target}: ${r.status}`);
    }
    // A public URL is accepted (the guard is not refusing everything).
    const ok = keep(
      await http(`${url}/v1/webhooks`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ url: 'https://93.184.215.14/hook', enabled: false }),
      }),
    );
    figures.refused = INTERNAL_URLS.length + 8 - problems.length;
    figures.public_accepted = ok.status === 201;
    if (ok.status === 201) {
      const id = (JSON.parse(ok.text) as { id: string }).id;
      await http(`${url}/v1/webhooks/${id}`, { method: 'DELETE', headers: admin });
    }
    await strict.stop();
    check(problems.length === 0, problems.slice(0, 6).join(' | '));
    check(ok.status === 201, `a public webhook URL was refused: ${ok.status} ${ok.text.slice(0, 200)}`);
  });

  await report.scenario('security/secrets-absent-from-logs-errors-and-lists', async (figures) => {
    const admin = { authorization: `Bearer ${ctx.adminKey}`, 'content-type': 'application/json' };
    // A subscription with a generated secret, then every way of reading subscriptions back.
    const created = await http(`${ctx.apiUrl}/v1/webhooks`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ url: 'http://127.0.0.1:9/never', enabled: false }),
    });
    check(created.status === 201, `POST /v1/webhooks: ${created.status}`);
    const { id, secret } = JSON.parse(created.text) as { id: string; secret: string };
    check(typeof secret === 'string' && secret.length >= 16, 'no secret in the create response');
    const reads = [
      await http(`${ctx.apiUrl}/v1/webhooks`, { headers: admin }),
      await http(`${ctx.apiUrl}/v1/webhooks/${id}`, { headers: admin }),
      await http(`${ctx.apiUrl}/v1/webhooks/${id}/deliveries`, { headers: admin }),
      keep(
        await http(`${ctx.apiUrl}/v1/webhooks/${id}`, {
          method: 'PATCH',
          headers: admin,
          body: JSON.stringify({ secret: 'short' }),
        }),
      ),
      keep(await http(`${ctx.apiUrl}/v1/keys`, { method: 'POST', headers: admin, body: '{"scope":"read"}' })),
      await http(`${ctx.apiUrl}/metrics`, { headers: admin }),
      await http(`${ctx.apiUrl}/health`),
    ];
    await http(`${ctx.apiUrl}/v1/webhooks/${id}/test`, { method: 'POST', headers: admin });
    await http(`${ctx.apiUrl}/v1/webhooks/${id}`, { method: 'DELETE', headers: admin });
    const secrets = {
      adminKey: ctx.adminKey,
      readKey: ctx.readKey,
      webhookSecret: ctx.webhookSecret,
      generatedSecret: secret,
    };
    const leaks: string[] = [];
    const scan = (where: string, text: string) => {
      for (const [name, value] of Object.entries(secrets)) if (text.includes(value)) leaks.push(`${name} in ${where}`);
    };
    reads.forEach((r, i) => scan(`response ${i}`, r.text));
    errorBodies.forEach((text, i) => scan(`error body ${i}`, text));
    for (const process of ctx.pipeline.everyProcess) scan(`${process.name} output`, process.output());
    // The queue's job data (BullMQ hashes in Redis) must not carry webhook secrets either.
    const jobKeys = await ctx.pipeline.client.keys(`{${ctx.pipeline.options.prefix}-bull}:webhooks:*`);
    for (const key of jobKeys.slice(0, 200)) {
      if ((await ctx.pipeline.client.type(key)) !== 'hash') continue;
      scan(`job ${key}`, JSON.stringify(await ctx.pipeline.client.hgetall(key)));
    }
    figures.outputs_scanned = ctx.pipeline.everyProcess.length;
    figures.log_kb = Math.round(ctx.pipeline.everyProcess.reduce((n, p) => n + p.output().length, 0) / 1024);
    figures.error_bodies = errorBodies.length;
    figures.jobs_scanned = jobKeys.length;
    figures.leaks = leaks.length;
    check(leaks.length === 0, [...new Set(leaks)].slice(0, 6).join(' | '));
  });
}
