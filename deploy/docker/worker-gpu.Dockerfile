# syntax=docker/dockerfile:1
# Image: ghcr.io/ffjob/worker:<version>-gpu (set spec.worker.image to it, with
# resources.limits nvidia.com/gpu: 1)
# Build from the repository root:
#   docker build -f deploy/docker/worker-gpu.Dockerfile -t ghcr.io/ffjob/worker:0.1.0-gpu .
# @tensorflow/tfjs-node-gpu 4.x loads libtensorflow 2.9 built for CUDA 11.2 and cuDNN 8,
# hence the CUDA base; the node binary and modules come from a Debian bullseye stage, whose
# glibc (2.31) is Ubuntu 20.04's.
ARG NODE_IMAGE=node:20-bullseye-slim
ARG CUDA_IMAGE=nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04
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
# tfjs-node-gpu's install script fetches the GPU build of libtensorflow.
RUN npm ci --omit=dev --omit=optional --ignore-scripts \
 && npm install --omit=dev --no-save "@tensorflow/tfjs-node-gpu@${TFJS_VERSION}" \
 && npm cache clean --force

FROM ${CUDA_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY --from=build /app/dist ./dist
USER 1000:1000
EXPOSE 7070 9090
ENTRYPOINT ["node", "bin/ffjob.js"]
