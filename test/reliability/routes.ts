import { connect } from 'node:net';
import { http } from './processes.js';

/** Strings an attacker tries on every parameter: SQL and NoSQL injection, traversal, CRLF, scripts, format strings. */
export const INJECTIONS = [
  "' OR 1=1 --",
  '{"$gt":""}',
  '[$ne]=1',
  '../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  'a\r\nX-Injected: 1',
  '<script>alert(1)</script>',
  '%s%s%s%n',
  '${jndi:ldap://127.0.0.1/a}',
  '\u0000',
  '-1',
  '1e309',
  'x'.repeat(5_000),
  '😀\ud800',
  '__proto__',
  '*',
];

export interface Route {
  method: string;
  /** OpenAPI form: /v1/findings/{id}. */
  path: string;
  query: string[];
  /** The scope the route declares in its description (read or admin); admin when unsure. */
  security: boolean;
}

/** Every route of the OpenAPI document the api serves (it comes from the code, so no route is missed). */
export async function fetchRoutes(apiUrl: string): Promise<Route[]> {
  const response = await http(`${apiUrl}/docs-json`);
  if (response.status !== 200) throw new Error(`GET /docs-json: ${response.status}`);
  const doc = JSON.parse(response.text) as {
    paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; security?: unknown[] }>>;
  };
  const routes: Route[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!['get', 'post', 'patch', 'put', 'delete'].includes(method)) continue;
      routes.push({
        method: method.toUpperCase(),
        path,
        query: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        security: (operation.security ?? []).length > 0,
      });
    }
  }
  return routes;
}

/** Sends raw bytes (fetch refuses CR/LF in header values) and returns what came back. */
export function rawRequest(apiUrl: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(apiUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    const done = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(5_000, done);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      // One response is enough: its head, and its body when the length is known.
      const [head, body = ''] = answer.split('\r\n\r\n');
      const length = Number(/content-length:\s*(\d+)/i.exec(head ?? '')?.[1] ?? Number.NaN);
      if (answer.includes('\r\n\r\n') && (!Number.isFinite(length) || body.length >= length)) done();
    });
    socket.on('error', done);
    socket.on('end', done);
    socket.write(raw);
  });
}
