import { Logger } from '@nestjs/common';
import { createSimulator, demoAnomalies, simulatorOptionsFromConfig } from '@trailsight/simulator';
import { configOrExit, createLogger, ensureRedis, exitOnBootFailure, serveApp } from '@trailsight/core';
import { TrailsightModule } from './trailsight.module.js';

/**
 * Everything in one process on the embedded default: a Redis (reused, or started under .data/),
 * the simulated account on SIMULATOR_PORT when CLOUDTRAIL_SOURCE=simulator, then api, poller
 * and detector on PORT.
 */
async function main(): Promise<void> {
  const config = configOrExit(withEmbeddedDefaults(process.env));
  Logger.overrideLogger(createLogger(config));
  const logger = new Logger('Trailsight');
  await ensureRedis(config, logger);

  if (config.source === 'simulator') {
    const { server, generator } = createSimulator(simulatorOptionsFromConfig(config));
    for (const anomaly of demoAnomalies(generator, Date.now())) generator.injectAnomaly(anomaly);
    const { url } = await server.start(config.simulatorPort, '127.0.0.1');
    // Closed with the process: the 'exit' handlers of ensureRedis and the OS take the rest.
    process.once('exit', () => void server.stop());
    logger.log(`Simulated CloudTrail account at ${url} (POST /anomalies, GET /truth)`);
  }

  await serveApp(TrailsightModule.forRoot(config), config, { swagger: true, console: true });
  logger.log(
    `Trailsight on http://localhost:${config.port}: the console at /console, /health/ready, /docs, /v1/findings`,
  );
}

/**
 * The simulated account is ours, so the embedded default reads it faster than AWS allows
 * (25 LookupEvents requests/s instead of 2) and back-fills one day instead of seven: the first
 * findings come within minutes. Anything set explicitly wins.
 */
function withEmbeddedDefaults(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if ((env.CLOUDTRAIL_SOURCE ?? 'simulator') !== 'simulator') return env;
  return { SIMULATOR_RATE_LIMIT: '25', LOOKUP_EVENTS_RATE: '25', BACKFILL_DAYS: '1', ...env };
}

main().catch(exitOnBootFailure);
