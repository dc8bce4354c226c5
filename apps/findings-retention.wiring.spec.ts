import type { DynamicModule } from '@nestjs/common';
import { loadConfig } from '@trailsight/core';
import { FindingsRetentionModule } from '@trailsight/findings';
import { ApiModule } from './api/src/api.module.js';
import { DetectorAppModule } from './detector/src/detector-app.module.js';
import { PollerAppModule } from './poller/src/poller-app.module.js';
import { TrailsightModule } from './trailsight/src/trailsight.module.js';

const config = loadConfig({});
const prunes = (app: DynamicModule) => (app.imports ?? []).includes(FindingsRetentionModule);

/** The findings prune is a per-process timer: exactly the processes that own findings run it. */
describe('the apps that prune findings', () => {
  it('are the detector and the combined app', () => {
    expect(prunes(DetectorAppModule.forRoot(config))).toBe(true);
    expect(prunes(TrailsightModule.forRoot(config))).toBe(true);
  });

  it('are not the api or the poller', () => {
    expect(prunes(ApiModule.forRoot(config))).toBe(false);
    expect(prunes(PollerAppModule.forRoot(config))).toBe(false);
  });
});
