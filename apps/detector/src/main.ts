import { configOrExit, exitOnBootFailure, serveApp } from '@trailsight/core';
import { DetectorAppModule } from './detector-app.module.js';

const config = configOrExit();
serveApp(DetectorAppModule.forRoot(config), config).catch(exitOnBootFailure);
