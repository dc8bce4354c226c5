import { Logger } from '@nestjs/common';
import { createSimulator, simulatorOptionsFromConfig } from '@trailsight/cloudtrail';
import { configOrExit, ensureRedis, exitOnBootFailure, serveApp } from '@trailsight/core';
import { TrailsightModule } from './trailsight.module.js';

/**
 * Everything in one process on the embedded default: a Redis (reused, or started under .data/),
 * the simulated account on SIMULATOR_PORT when CLOUDTRAIL_SOURCE=simulator, then api, poller
 * and detector on PORT.
 */
async function main(): Promise<void> {
  const config = configOrExit();
  const logger = new Logger('Trailsight');
  await ensureRedis(config, logger);

  if (config.source === 'simulator') {
    const { server } = createSimulator(simulatorOptionsFromConfig(config));
    const { url } = await server.start(config.simulatorPort, '127.0.0.1');
    // Closed with the process: the 'exit' handlers of ensureRedis and the OS take the rest.
    process.once('exit', () => void server.stop());
    logger.log(`Simulated CloudTrail account at ${url} (POST /anomalies, GET /truth)`);
  }

  const app = await serveApp(TrailsightModule.forRoot(config), config, { swagger: true });
  logger.log(`Trailsight on ${await app.getUrl()}: /health, /docs`);
}

main().catch(exitOnBootFailure);
