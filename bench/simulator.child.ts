import { SimulatedAccount, SimulatorServer, TrafficGenerator } from '@trailsight/simulator';

/**
 * The simulated account in its own process, for the ingest benchmark (a poller and a simulator
 * sharing one event loop measure each other). The same layers as `npm run simulator`, plus what
 * only a benchmark needs: a shifted clock (the parent's, so the traffic is at its weekday peak
 * whatever the time of the run) and a minute cache sized for the fleet.
 *
 * Env: BENCH_SIM_ACCOUNTS (comma-separated), BENCH_SIM_REGIONS, BENCH_SIM_EVENTS_PER_MINUTE,
 * BENCH_SIM_RATE_LIMIT, BENCH_SIM_SEED, BENCH_SIM_CLOCK_OFFSET_MS, BENCH_SIM_CACHE_EVENTS.
 * Prints `{"url": ...}` on stdout once listening; over IPC answers 'cpu' with its CPU time
 * (µs) and 'stats' with the server's per-account-region counters. Stops on SIGTERM or disconnect.
 */
const env = process.env;
const list = (value: string | undefined) => (value ?? '').split(',').filter((item) => item !== '');
const offset = Number(env.BENCH_SIM_CLOCK_OFFSET_MS ?? 0);
const now = () => Date.now() + offset;

const generator = new TrafficGenerator({
  seed: Number(env.BENCH_SIM_SEED ?? 1),
  accounts: list(env.BENCH_SIM_ACCOUNTS),
  regions: list(env.BENCH_SIM_REGIONS ?? 'us-east-1'),
  eventsPerMinute: Number(env.BENCH_SIM_EVENTS_PER_MINUTE ?? 6_000),
  cacheEvents: env.BENCH_SIM_CACHE_EVENTS ? Number(env.BENCH_SIM_CACHE_EVENTS) : undefined,
  now,
});
const account = new SimulatedAccount({ generator, now });
const server = new SimulatorServer({ account, rateLimit: Number(env.BENCH_SIM_RATE_LIMIT ?? 2) });
const { url } = await server.start(0);
process.stdout.write(`${JSON.stringify({ url })}\n`);

process.on('message', (message: unknown) => {
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
  } else if (message === 'stats') {
    process.send?.({ stats: server.stats() });
  }
});
const stop = () => void server.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('disconnect', stop);
