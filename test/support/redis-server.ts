import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A throwaway redis-server on a free loopback port, for one test file.
 * It never touches a Redis the user runs: its own port, its own directory, gone afterwards.
 */
export interface ThrowawayRedis {
  /** redis://127.0.0.1:<port>, or rediss://… with TLS, with `default:<password>@` when a password is set. */
  url: string;
  /** With TLS: the PEM file of the throwaway CA that signed the server's certificate (REDIS_TLS_CA_FILE). */
  caFile?: string;
  port: number;
  dir: string;
  /** Stops the server; with keepData the directory (and its AOF) survives for a restart. */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Stops and starts the server on the same port and directory (AOF on: data survives). */
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServerOptions {
  appendOnly?: boolean;
  /** Started with --requirepass: clients must AUTH (the URL carries it). */
  password?: string;
  /** TLS only (--port 0 --tls-port): a throwaway CA and server certificate made with openssl. */
  tls?: boolean;
}

/**
 * Why this machine cannot run a TLS redis-server (not built with TLS, or no openssl), or
 * undefined when it can. Tests that need TLS skip with this message.
 */
export function redisTlsUnavailable(): string | undefined {
  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (openssl.status !== 0) return 'openssl is not installed';
  // A redis-server built without TLS refuses the option at once; one with TLS fails on the missing file.
  const probe = spawnSync('redis-server', ['--port', '0', '--tls-port', '1', '--tls-cert-file', '/nonexistent'], {
    encoding: 'utf8',
    timeout: 5_000,
  });
  if (probe.error) return `redis-server cannot be run (${probe.error.message})`;
  const output = `${probe.stdout}${probe.stderr}`;
  if (/not (supported|available|compiled)|bad directive|unknown option/i.test(output))
    return `this machine's redis-server is built without TLS (${output.trim().split('\n').pop() ?? ''})`;
  return undefined;
}

/** A throwaway CA and a server certificate for 127.0.0.1 / localhost signed by it, in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=trailsight-test-ca',
  );
  openssl('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    '-days',
    '1',
    '-extfile',
    file('server.ext'),
  );
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

export async function startRedis(options: RedisServerOptions = {}): Promise<ThrowawayRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'trailsight-redis-'));
  const certificates = options.tls ? makeCertificates(dir) : undefined;
  const listen = certificates
    ? [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        certificates.cert,
        '--tls-key-file',
        certificates.key,
        '--tls-ca-cert-file',
        certificates.ca,
        '--tls-auth-clients',
        'no',
      ]
    : ['--port', String(port)];
  const args = [
    ...listen,
    ...(options.password === undefined ? [] : ['--requirepass', options.password]),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--maxmemory-policy',
    'noeviction',
  ];
  const probe: ProbeOptions = {
    port,
    password: options.password,
    tls: certificates && { ca: readFileSync(certificates.ca) },
  };
  let child: ChildProcess = await launch(args, probe);
  const auth = options.password === undefined ? '' : `default:${encodeURIComponent(options.password)}@`;
  const url = `${certificates ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`;
  return {
    url,
    ...(certificates ? { caFile: certificates.ca } : {}),
    port,
    dir,
    async stop({ keepData = false } = {}) {
      await terminate(child);
      if (!keepData) rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await terminate(child);
      child = await launch(args, probe);
    },
  };
}

interface ProbeOptions {
  port: number;
  password?: string;
  tls?: { ca: Buffer };
}

/** Starts redis-server with `args` and resolves once it answers PING on `port`. */
export async function launch(args: string[], { port, password, tls }: ProbeOptions): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  child.once('error', () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      password,
      tls,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return child;
    } catch {
      probe.disconnect();
      if (child.exitCode !== null)
        throw new Error(`redis-server exited with ${child.exitCode}; is it installed? (apt-get install redis-server)`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** SIGKILL, resolved once the server has exited. */
export async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
