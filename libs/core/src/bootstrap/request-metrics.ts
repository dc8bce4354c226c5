import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ProcessMetrics } from '../metrics/process-metrics.js';

/**
 * Times every answer into `trailsight_http_request_duration_seconds`, labelled with the route
 * template (`/v1/findings/:id`, never the raw URL: ids would make a series each) and the status.
 * Requests no route matched share `unmatched`.
 */
export function useRequestMetrics(app: NestFastifyApplication): void {
  const histogram = app.get(ProcessMetrics).httpRequestDuration;
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      histogram.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status_code: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
      done();
    });
}
