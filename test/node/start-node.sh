#!/usr/bin/env bash
# A real node beside a test control plane: containerd (Debian's) with a CNI bridge, the
# kubelet and kube-scheduler built from the same pinned Kubernetes module as the API server
# (test/cluster/build.sh), and the images that test/images/build.sh built imported into
# containerd (there is no registry to pull from). Not yet wired into `npm test`: see
# README.md here for what runs and what does not.
#
# Usage: KUBECONFIG=... test/node/start-node.sh   (the admin kubeconfig of a control plane,
#        e.g. from `node --import tsx test/cluster/start.ts`); runs until killed.
# Environment: FFJOB_CACHE (default $HOME/.cache/ffjob), FFJOB_NODE_DIR (default
#        /var/tmp/ffjob-node: containerd's root, the kubelet's root, logs).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${FFJOB_CACHE:-$HOME/.cache/ffjob}"
NODE="${FFJOB_NODE_DIR:-/var/tmp/ffjob-node}"
K8S_VERSION=v1.36.3
BIN="$CACHE/k8s-$K8S_VERSION/node-bin"
SOCK=/run/ffjob-containerd/containerd.sock
: "${KUBECONFIG:?set KUBECONFIG to the admin kubeconfig of a control plane}"

log() { printf '[node] %s\n' "$*" >&2; }

command -v containerd >/dev/null 2>&1 || {
  log "installing containerd (Debian package)"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containerd containernetworking-plugins >&2
}

# The kubelet and the scheduler (the control plane has none; the test node agent binds
# pods itself) from the module test/cluster/build.sh generated, with the same pins.
if [[ ! -x "$BIN/kubelet" || ! -x "$BIN/kube-scheduler" ]]; then
  bash "$ROOT/test/cluster/build.sh" >/dev/null
  log "building kubelet and kube-scheduler $K8S_VERSION"
  mkdir -p "$BIN"
  (cd "$CACHE/k8s-$K8S_VERSION/buildmod" && GOFLAGS="-trimpath -mod=mod" GOTOOLCHAIN=local CGO_ENABLED=0 \
    GOCACHE="$CACHE/k8s-$K8S_VERSION/gocache-node" nice -n 19 go build -o "$BIN/" \
    -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-scheduler)
fi

IMAGES="$(bash "$ROOT/test/images/build.sh")"
STORAGE=(--root "$IMAGES/storage" --runroot "$IMAGES/run" --storage-driver overlay)
mkdir -p "$NODE/cni" "$NODE/kubelet" "$NODE/images" /run/ffjob-containerd
cp "$HERE/cni-bridge.conflist" "$NODE/cni/10-ffjob-bridge.conflist"

# containerd's defaults, with its own root, socket and CNI folders, runc by name, and
# restrict_oom_score_adj: the kubelet asks for -998 on the pod sandbox, and lowering an
# OOM score needs CAP_SYS_RESOURCE, which this machine's capability bounding set lacks
# (runc init then dies: "can't get final child's PID from pipe: EOF").
containerd config default | sed \
  -e "s|^root = .*|root = \"$NODE/containerd\"|" \
  -e "s|^state = .*|state = \"/run/ffjob-containerd/state\"|" \
  -e "s|address = \"/run/containerd/containerd.sock\"|address = \"$SOCK\"|" \
  -e "s|sandbox_image = .*|sandbox_image = \"registry.k8s.io/pause:3.10\"|" \
  -e "s|bin_dir = \"/opt/cni/bin\"|bin_dir = \"/usr/lib/cni\"|" \
  -e "s|conf_dir = \"/etc/cni/net.d\"|conf_dir = \"$NODE/cni\"|" \
  -e "s|restrict_oom_score_adj = false|restrict_oom_score_adj = true|" > "$NODE/containerd.toml"
nice -n 19 containerd --config "$NODE/containerd.toml" > "$NODE/containerd.log" 2>&1 &
PIDS=($!)
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
trap 'exit 143' TERM INT
for _ in $(seq 30); do [[ -S "$SOCK" ]] && break; sleep 1; done

# The pod sandbox image cannot be pulled either: the base image, sleeping.
ctr="$(buildah "${STORAGE[@]}" from "$(cat "$IMAGES/base")")"
buildah "${STORAGE[@]}" config --entrypoint '["/bin/sh","-c","exec sleep infinity"]' --user 65535:65535 "$ctr" 2>/dev/null
buildah "${STORAGE[@]}" commit --quiet --rm "$ctr" registry.k8s.io/pause:3.10 >/dev/null
refs=(registry.k8s.io/pause:3.10)
while read -r name; do refs+=("$(cat "$IMAGES/$name/ref")"); done < "$IMAGES/names"
for ref in "${refs[@]}"; do
  archive="$NODE/images/$(echo "$ref" | tr '/:' '__').tar"
  rm -f "$archive"
  buildah "${STORAGE[@]}" push --quiet "$ref" "oci-archive:$archive:$ref"
  ctr -a "$SOCK" -n k8s.io images import "$archive" >/dev/null
  log "imported $ref"
done

nice -n 19 "$BIN/kube-scheduler" --kubeconfig="$KUBECONFIG" --authentication-kubeconfig="$KUBECONFIG" \
  --authorization-kubeconfig="$KUBECONFIG" --leader-elect=false --secure-port=0 > "$NODE/scheduler.log" 2>&1 &
PIDS+=($!)
nice -n 19 "$BIN/kubelet" --config="$HERE/kubelet.yaml" --kubeconfig="$KUBECONFIG" --hostname-override=ffjob-node \
  --root-dir="$NODE/kubelet" --v=2 > "$NODE/kubelet.log" 2>&1 &
PIDS+=($!)
log "containerd, kube-scheduler and kubelet running; logs in $NODE"
wait -n "${PIDS[@]}"
log "a node process ended; see $NODE/*.log"
exit 1
