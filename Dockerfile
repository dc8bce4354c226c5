# One image for every Trailsight process; docker-compose.yml picks the process with `command`.
# Build: docker build -t trailsight --build-arg REVISION=$(git rev-parse HEAD) .
# Run:   docker run trailsight node dist/apps/<app>/src/main.js

FROM node:24-alpine AS build
# Packages that honour it make no install-time analytics calls (a self-hosted service phones nowhere).
ENV SCARF_ANALYTICS=false
WORKDIR /app
# Dependencies first, so source edits do not re-run npm ci.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# build:image, not build: the apps, libs and console only; benchmarks and test support stay out.
RUN npm run build:image && npm prune --omit=dev --no-audit --no-fund

FROM node:24-alpine AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="trailsight" \
      org.opencontainers.image.description="Self-hosted CloudTrail Insights: unusual API call volume and error counts as Insights records in AWS's layout" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# SCARF_ANALYTICS=false here too, for whoever runs npm in a container of this image.
ENV NODE_ENV=production \
    SCARF_ANALYTICS=false
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# Where the first start without API_KEYS writes its admin key (ADMIN_KEY_FILE, mode 0600):
# read it with `docker compose exec api cat .data/admin-key`.
RUN mkdir -p .data && chown node:node .data
USER node
EXPOSE 3000
# Public readiness (Redis reachable), the same for api, poller and detector on PORT.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The API by default; compose runs poller, detector and simulator from this same image.
CMD ["node", "dist/apps/api/src/main.js"]
