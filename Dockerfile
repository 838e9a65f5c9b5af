# The Embedline image: Node 20, the locked npm dependencies
# and a production `next build`, served by `next start`. The pipeline workers
# will run from this same image (they run TypeScript through tsx, which is why
# dev dependencies stay installed).
FROM node:20-bookworm-slim

ENV NEXT_TELEMETRY_DISABLED=1
RUN mkdir /app && chown node:node /app
WORKDIR /app
USER node

# Dependencies first, so a source change does not re-run the install.
COPY --chown=node:node package.json package-lock.json ./
# postinstall applies these fixes to installed packages (patch-package).
COPY --chown=node:node patches ./patches
# install, not ci: see scripts/bootstrap.mjs for why the lock does not satisfy `npm ci`.
RUN npm install --no-audit --no-fund

COPY --chown=node:node . .
RUN node node_modules/next/dist/bin/next build

ENV NODE_ENV=production
EXPOSE 3000
# Healthy when the console answers; the pipeline's health is what it shows.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/api/health?degraded=200').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# 0.0.0.0 inside the container; docker-compose.yml decides what the host exposes.
CMD ["node", "node_modules/next/dist/bin/next", "start", "-p", "3000", "-H", "0.0.0.0"]
