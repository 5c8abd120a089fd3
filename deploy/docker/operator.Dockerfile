# syntax=docker/dockerfile:1
# Image: ghcr.io/ffjob/operator:<version> (charts/ffjob's image.repository; tag = appVersion)
# Build from the repository root:
#   docker build -f deploy/docker/operator.Dockerfile -t ghcr.io/ffjob/operator:0.1.0 .
# The operator runs its TypeScript sources through tsx, as in development: no build step,
# so the image holds exactly the code the tests ran.
ARG NODE_IMAGE=node:20-bookworm-slim

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
COPY package.json tsconfig.json ./
COPY operator ./operator
# The operator shares the logger and the process metrics with the workers.
COPY worker/observe ./worker/observe
# The node image's unprivileged user; the chart runs it with a read-only root and /tmp
# (tsx's compile cache) on an emptyDir.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "--import", "tsx", "operator/main.ts"]
