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
