import { configOrExit, exitOnBootFailure, serveApp } from '@trailsight/core';
import { PollerAppModule } from './poller-app.module.js';

const config = configOrExit();
serveApp(PollerAppModule.forRoot(config), config).catch(exitOnBootFailure);
