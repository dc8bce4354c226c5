import { Registry, type Metric } from 'prom-client';
import type { MetricFamily } from './metric-collectors.js';

/**
 * The collectors' families (figures read from Redis at scrape time) on a prom-client registry of
 * their own, so one library writes the whole exposition. Families of the same name are merged
 * (first HELP wins); a family without samples still shows its HELP and TYPE.
 */
export function familiesRegistry(families: readonly MetricFamily[]): Registry {
  const merged = new Map<string, MetricFamily>();
  for (const family of families) {
    const known = merged.get(family.name);
    if (known) known.samples.push(...family.samples);
    else merged.set(family.name, { ...family, samples: [...family.samples] });
  }
  const registry = new Registry();
  for (const family of merged.values()) registry.registerMetric(asMetric(family));
  return registry;
}

/** A read-only family in the shape prom-client's registry renders (what its own metrics' get() returns). */
function asMetric(family: MetricFamily): Metric {
  const snapshot = {
    name: family.name,
    help: family.help,
    type: family.type,
    aggregator: 'sum',
    values: family.samples.map(({ labels, value }) => ({ labels: labels ?? {}, value })),
  };
  return { name: family.name, get: () => Promise.resolve(snapshot) } as unknown as Metric;
}
