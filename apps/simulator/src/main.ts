import { createSimulator, simulatorOptionsFromConfig } from '@trailsight/simulator';
import { ConfigError, createLogger, loadConfig, type AppConfig } from '@trailsight/core';

/**
 * The simulated AWS account on its own (`npm run simulator`, or the docker-compose `simulator`
 * service): LookupEvents on SIMULATOR_PORT, every interface (so other containers reach it), and
 * the control routes on the same port for loopback callers only unless SIMULATOR_CONTROL=any.
 * Point CLOUDTRAIL_ENDPOINT at it; access keys are AKIDSIM<account id>.
 */
async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  const logger = createLogger(config);
  const options = simulatorOptionsFromConfig(config);
  const { server } = createSimulator(options);
  const { port } = await server.start(config.simulatorPort, '0.0.0.0');
  logger.log(
    `Simulated CloudTrail account listening on http://127.0.0.1:${port} (all interfaces; control routes ` +
      `${config.simulatorControl === 'any' ? 'for everyone' : 'for loopback callers only'}): ` +
      `accounts ${options.accounts.join(', ')}, regions ${options.regions.join(', ')}, ` +
      `${options.eventsPerMinute} events/min at peak, ${options.rateLimit} LookupEvents requests/s, ` +
      `access key AKIDSIM<account id>`,
    'Simulator',
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received, stopping`, 'Simulator');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(error, 'Simulator');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
