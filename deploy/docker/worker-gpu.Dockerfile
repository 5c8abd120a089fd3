# syntax=docker/dockerfile:1
# Image: ghcr.io/ffjob/worker:<version>-gpu (set spec.worker.image to it, with
# resources.limits nvidia.com/gpu: 1 and backend: webgpu or auto)
# Build from the repository root:
#   docker build -f deploy/docker/worker-gpu.Dockerfile -t ghcr.io/ffjob/worker:0.1.0-gpu .
# The webgpu backend runs on Dawn for Node (npm `webgpu`, which ships dawn.node) over the
# NVIDIA driver's Vulkan: no CUDA in the image, so it runs with whatever driver the node has.
# Dawn needs the Vulkan loader and the glvnd libraries; the driver's Vulkan ICD comes from
# the NVIDIA container runtime, which mounts it only with the graphics capability (set
# here, and by the operator on webgpu workers). wasm and cpu stay as fallbacks.
# tfjs-node-gpu on CUDA: deploy/docker/worker-gpu-cuda.Dockerfile.
ARG NODE_IMAGE=node:20-bookworm-slim

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
WORKDIR /app
COPY package.json package-lock.json ./
# webgpu's only install script clears a macOS quarantine flag: nothing to run on Linux.
RUN npm ci --omit=dev --omit=optional --ignore-scripts \
 && npm cache clean --force

FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Not NVIDIA_VISIBLE_DEVICES: the device plugin names the GPUs a pod was given.
ENV NODE_ENV=production \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY --from=build /app/dist ./dist
USER 1000:1000
EXPOSE 7070 9090
# The operator sets the arguments (`worker --job … --group …`) on each pod.
ENTRYPOINT ["node", "bin/ffjob.js"]
