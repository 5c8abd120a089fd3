# syntax=docker/dockerfile:1
# Image: ghcr.io/ffjob/operator:<version> (charts/ffjob's image.repository; tag = appVersion)
# Build from the repository root:
#   docker build -f deploy/docker/operator.Dockerfile -t ghcr.io/ffjob/operator:0.1.0 .
# The sources are compiled with tsc in a build stage; the image runs plain JavaScript.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=optional --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY observe ./observe
COPY operator ./operator
COPY proto/gen ./proto/gen
RUN npx tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only; the optional TensorFlow bindings are for workers, and no
# install script is needed by what the operator loads.
RUN npm ci --omit=dev --omit=optional --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
# The node image's unprivileged user; the chart runs it with a read-only root.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "dist/operator/main.js"]
