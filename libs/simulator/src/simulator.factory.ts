import type { AppConfig } from '@trailsight/core';
import type { AnomalySpec } from './anomaly.js';
import { SimulatorServer, type SimulatorControlAccess } from './lookup-events.server.js';
import { SimulatedAccount } from './simulated-account.js';
import { TrafficGenerator } from './traffic-generator.js';

export interface SimulatorOptions {
  seed: number;
  accounts: readonly string[];
  regions: readonly string[];
  /** Calls per minute per account-region at the busiest time. */
  eventsPerMinute: number;
  /** 'daily' (default) or 'steady': see TrafficGeneratorOptions.rhythm. */
  rhythm?: 'daily' | 'steady';
  /** LookupEvents requests per second per account-region (default 2). */
  rateLimit?: number;
  /** Who may call the control routes: `loopback` (default) or `any`. */
  control?: SimulatorControlAccess;
  apiCount?: number;
  errorRate?: number;
  anomalies?: readonly AnomalySpec[];
  /** Data events per minute for trail files (TrafficGeneratorOptions.dataEventsPerMinute; default 0). */
  dataEventsPerMinute?: number;
  now?: () => number;
  visibilityDelayMs?: number;
}

/** The three layers of the simulated account, wired together. Nothing listens until server.start(). */
export interface Simulator {
  generator: TrafficGenerator;
  account: SimulatedAccount;
  server: SimulatorServer;
}

export function createSimulator(options: SimulatorOptions): Simulator {
  const { rateLimit, control, visibilityDelayMs, ...traffic } = options;
  const generator = new TrafficGenerator(traffic);
  const account = new SimulatedAccount({ generator, now: options.now, visibilityDelayMs });
  const server = new SimulatorServer({ account, rateLimit, control });
  return { generator, account, server };
}

/** The simulator the configuration describes (SIMULATOR_*, AWS_REGIONS, AWS_ACCOUNTS). */
export function simulatorOptionsFromConfig(
  config: Pick<
    AppConfig,
    'simulatorSeed' | 'simulatorEventsPerMinute' | 'simulatorRateLimit' | 'simulatorControl' | 'regions' | 'accounts'
  >,
): SimulatorOptions {
  return {
    seed: config.simulatorSeed,
    accounts: config.accounts.map((account) => account.accountId),
    regions: config.regions,
    eventsPerMinute: config.simulatorEventsPerMinute,
    rateLimit: config.simulatorRateLimit,
    control: config.simulatorControl,
  };
}
