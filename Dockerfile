# One image for every Trailsight process; docker-compose.yml picks the process with `command`.
# Build: docker build -t trailsight .   Run: docker run trailsight node dist/apps/<app>/src/main.js

FROM node:24-alpine AS build
WORKDIR /app
# Dependencies first, so source edits do not re-run npm ci.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-alpine AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 3000
# The API by default; compose runs poller, detector and simulator from this same image.
CMD ["node", "dist/apps/api/src/main.js"]
