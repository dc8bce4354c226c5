import type { FactoryProvider, InjectionToken } from '@nestjs/common';
import type { HealthIndicatorFunction } from '@nestjs/terminus';

/**
 * Multi-provider token for the checks `GET /health` runs. Any module of the app may provide
 * it, any number of times; the health controller collects every registration (across
 * modules) when the app boots. Each value is one check or an array of checks:
 *
 *   providers: [
 *     healthIndicator((queues: QueueHealthIndicator) => () => queues.isHealthy('queues'), [QueueHealthIndicator]),
 *   ]
 *
 * A check resolves with `{ <key>: { status: 'up' | 'down', ... } }` (build it with terminus'
 * HealthIndicatorService) and should time out quickly on its own.
 */
export const HEALTH_INDICATORS = Symbol('HEALTH_INDICATORS');

export type HealthIndicatorRegistration = HealthIndicatorFunction | HealthIndicatorFunction[];

/** A HEALTH_INDICATORS registration whose check is built from injected providers. */
export function healthIndicator<const Deps extends unknown[]>(
  factory: (...deps: Deps) => HealthIndicatorRegistration,
  inject: InjectionToken[] = [],
): FactoryProvider<HealthIndicatorRegistration> {
  return {
    provide: HEALTH_INDICATORS,
    useFactory: factory as (...deps: unknown[]) => HealthIndicatorRegistration,
    inject,
  };
}

/**
 * Multi-provider token for what `GET /health/ready` needs besides Redis: each registration is a
 * cheap, synchronous check (no I/O) that this process's own work is running, such as its queue
 * workers or its polling loop. Like HEALTH_INDICATORS, any module may register any number.
 */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/** True while the part of the process it watches is running. */
export type ReadinessCheck = () => boolean;

/** A READINESS_CHECKS registration built from injected providers. */
export function readinessCheck<const Deps extends unknown[]>(
  factory: (...deps: Deps) => ReadinessCheck,
  inject: InjectionToken[] = [],
): FactoryProvider<ReadinessCheck> {
  return {
    provide: READINESS_CHECKS,
    useFactory: factory as (...deps: unknown[]) => ReadinessCheck,
    inject,
  };
}
