import type { INestApplicationContext } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';

const SHUTDOWN_HOOKS = ['onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown'] as const;

/** A finished hook is worth naming when it took this long: it delayed the hooks after it. */
const SLOW_HOOK_MS = 1_000;

/**
 * Records the shutdown hooks (of every provider, controller and module) as they run, so a
 * shutdown that outlives its deadline can say what it was waiting on. Returns a function that
 * names the hooks running now and those that finished slowly (`Class.hook (running 8.1 s)`,
 * `Class.hook (took 3.2 s)`), in the order they started.
 */
export function trackShutdownHooks(app: INestApplicationContext, now = () => performance.now()): () => string[] {
  const calls: Array<{ name: string; startedAt: number; endedAt?: number }> = [];
  const seen = new Set<object>();
  for (const module of app.get(ModulesContainer).values()) {
    const wrappers = [...module.providers.values(), ...module.controllers.values(), ...module.injectables.values()];
    for (const instance of [module.instance as unknown, ...wrappers.map((wrapper) => wrapper.instance)]) {
      if (typeof instance !== 'object' || instance === null || seen.has(instance)) continue;
      seen.add(instance);
      if (!Object.isExtensible(instance)) continue;
      const hooks = instance as Record<string, unknown>;
      for (const hook of SHUTDOWN_HOOKS) {
        const original = hooks[hook];
        if (typeof original !== 'function') continue;
        const name = `${instance.constructor.name}.${hook}`;
        hooks[hook] = function (this: unknown, ...args: unknown[]): unknown {
          const call: (typeof calls)[number] = { name, startedAt: now() };
          calls.push(call);
          const settle = () => (call.endedAt = now());
          try {
            const result: unknown = original.apply(this, args);
            Promise.resolve(result).then(settle, settle);
            return result;
          } catch (error) {
            settle();
            throw error;
          }
        };
      }
    }
  }
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return () =>
    calls.flatMap(({ name, startedAt, endedAt }) => {
      if (endedAt === undefined) return [`${name} (running ${seconds(now() - startedAt)})`];
      return endedAt - startedAt >= SLOW_HOOK_MS ? [`${name} (took ${seconds(endedAt - startedAt)})`] : [];
    });
}
