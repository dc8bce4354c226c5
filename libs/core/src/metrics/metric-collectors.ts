import type { FactoryProvider, InjectionToken } from '@nestjs/common';

type MetricType = 'counter' | 'gauge';

interface MetricSample {
  labels?: Record<string, string>;
  value: number;
}

/** One Prometheus metric family: `# HELP`, `# TYPE` and its samples. */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: MetricSample[];
}

/** Collects metric families when `GET /metrics` is scraped; should answer quickly. */
export type MetricCollector = () => Promise<MetricFamily[]>;

/**
 * Multi-provider token for what `GET /metrics` reports, like HEALTH_INDICATORS: any module may
 * register collectors (one registration per module: within a module the last provider of a token wins).
 *
 *   providers: [metricCollector((findings: FindingsRepository) => async () => [...], [FindingsRepository])]
 */
export const METRIC_COLLECTORS = Symbol('METRIC_COLLECTORS');

export function metricCollector<const Deps extends unknown[]>(
  factory: (...deps: Deps) => MetricCollector,
  inject: InjectionToken[] = [],
): FactoryProvider<MetricCollector> {
  return {
    provide: METRIC_COLLECTORS,
    useFactory: factory as (...deps: unknown[]) => MetricCollector,
    inject,
  };
}
