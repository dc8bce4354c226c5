import { SetMetadata } from '@nestjs/common';

/** What an API key may do: `read` reads findings and series; `admin` also manages webhooks and keys. */
export type ApiScope = 'read' | 'admin';

export const REQUIRED_SCOPE = 'trailsight:required-scope';

/** The scope a route (or every route of a controller) needs; the global API key guard enforces it. */
export const RequireScope = (scope: ApiScope) => SetMetadata(REQUIRED_SCOPE, scope);

/** Routes anyone may call without a key (health, metrics, the Swagger console). */
export const PublicRoute = () => SetMetadata(REQUIRED_SCOPE, 'public');
