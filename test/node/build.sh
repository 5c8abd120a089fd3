#!/usr/bin/env bash
# Builds the node's Kubernetes binaries (kubelet, kube-scheduler, kube-proxy) from the same
# pinned module and version as the control plane (test/cluster/build.sh, which runs first
# and generates that module), into a cache outside the repository, and prints their bin
# directory on stdout. When all three are there it does nothing (well under a second).
#
# Environment: FFJOB_CACHE (default $HOME/.cache/ffjob), FFJOB_KEEP_GOCACHE=1 keeps the Go
# build cache (about 2 GiB) after a build.
# All progress goes to stderr; stdout carries only the bin directory.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${FFJOB_CACHE:-$HOME/.cache/ffjob}"
K8S_VERSION=v1.36.3
BASE="$CACHE/k8s-$K8S_VERSION"
BIN="$BASE/node-bin"
BINARIES=(kubelet kube-scheduler kube-proxy)
log() { printf '[node-build] %s\n' "$*" >&2; }

missing=0
for b in "${BINARIES[@]}"; do [[ -x "$BIN/$b" ]] || missing=1; done
if [[ $missing == 0 ]]; then
  echo "$BIN"
  exit 0
fi

# The control plane's build generates buildmod/ (the pins of every staging module).
bash "$ROOT/test/cluster/build.sh" >/dev/null
start=$(date +%s)
log "building ${BINARIES[*]} $K8S_VERSION into $BIN"
OUT="$BASE/node-out.tmp"
rm -rf "$OUT"; mkdir -p "$OUT" "$BIN"
(cd "$BASE/buildmod" && GOFLAGS="-trimpath -mod=mod" GOTOOLCHAIN=local CGO_ENABLED=0 GOCACHE="$BASE/gocache-node" \
  nice -n 19 go build -o "$OUT/" \
  -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36" \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy)
for b in "${BINARIES[@]}"; do
  [[ -x "$OUT/$b" ]] || { log "missing $b after build"; exit 1; }
  mv -f "$OUT/$b" "$BIN/$b"
done
rm -rf "$OUT"
log "go build cache: $(du -sh "$BASE/gocache-node" | cut -f1)"
[[ "${FFJOB_KEEP_GOCACHE:-0}" == "1" ]] || rm -rf "$BASE/gocache-node"
log "done in $(($(date +%s) - start)) s"
echo "$BIN"
