import { configOrExit, exitOnBootFailure, serveApp } from '@trailsight/core';
import { ApiModule } from './api.module.js';

const config = configOrExit();
serveApp(ApiModule.forRoot(config), config, { swagger: true, console: true }).catch(exitOnBootFailure);
