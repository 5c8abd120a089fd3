#!/usr/bin/env bash
# A real node beside a test control plane: containerd (Debian's) with a CNI bridge, the
# kubelet, kube-proxy and kube-scheduler built from the same pinned Kubernetes module as the
# API server, CoreDNS as the cluster DNS and kube-router's firewall enforcing NetworkPolicies
# (build.sh here), and the images that test/images/build.sh built imported into containerd
# (there is no registry to pull from). test/node/node.ts runs it for the tests.
#
# Usage: KUBECONFIG=... FFJOB_NODE_IP=... test/node/start-node.sh   (the admin kubeconfig of
#        a control plane started with `advertiseAddress` = FFJOB_NODE_IP, an address of this
#        host); runs until killed, then stops every pod and process it started and removes
#        the bridge, the pods' network namespaces and iptables rules and the kubelet's mounts.
# Environment: FFJOB_CACHE (default $HOME/.cache/ffjob), FFJOB_NODE_DIR (default
#        /var/tmp/ffjob-node: containerd's root, the kubelet's root, logs).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
NODE="${FFJOB_NODE_DIR:-/var/tmp/ffjob-node}"
RUN=/run/ffjob-containerd
SOCK="$RUN/containerd.sock"
BRIDGE=ffjob0
POD_CIDR=10.244.0.0/24
: "${KUBECONFIG:?set KUBECONFIG to the admin kubeconfig of a control plane}"
: "${FFJOB_NODE_IP:?set FFJOB_NODE_IP to the address the control plane advertises}"

log() { printf '[node] %s\n' "$*" >&2; }

# The bridge, containerd's socket and the kubelet's port are fixed names: one node at a time
# on this machine. A second run waits here for the first to end.
exec 9> /run/ffjob-node.lock
flock -w 900 9 || { log "another node still runs after 15 minutes"; exit 1; }

# kube-router keeps its NetworkPolicies' pod addresses in ipsets, through the ipset tool.
command -v containerd >/dev/null 2>&1 && command -v ipset >/dev/null 2>&1 || {
  log "installing containerd and ipset (Debian packages)"
  apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends containerd containernetworking-plugins ipset >&2
}

BIN="$(bash "$HERE/build.sh")"
IMAGES="$(bash "$ROOT/test/images/build.sh")"
STORAGE=(--root "$IMAGES/storage" --runroot "$IMAGES/run" --storage-driver overlay)
ctr() { command ctr -a "$SOCK" -n k8s.io "$@"; }

# The pods' processes outlive containerd (each has its own shim): kill and remove every
# task and container. Graceful stops go through the kubelet first (node.ts deletes the pods);
# this is for a run that was killed, and for what a killed run left.
remove_pods() {
  local id
  for id in $(ctr tasks ls -q); do ctr tasks rm -f "$id" >/dev/null 2>&1 || true; done
  for id in $(ctr containers ls -q); do ctr containers rm "$id" >/dev/null 2>&1 || true; done
}

# What pods leave on the host when the kubelet did not tear them down: the kubelet's volume
# mounts and containerd's sandbox mounts, the network namespaces containerd's CRI names
# cni-*, the bridge, the bridge plugin's masquerade rules (a POSTROUTING rule and a CNI-*
# chain per pod), its address leases, and kube-proxy's, the kubelet's and kube-router's
# iptables rules and kube-router's ipsets.
clean_host() {
  local mount rule chain ns
  # The kubelet bind-mounts its root onto itself, besides the pods' volumes under it.
  for mount in $(awk -v a="$NODE/kubelet" -v b="$RUN/" 'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$mount" 2>/dev/null || true
  done
  rm -rf "$NODE/kubelet" || log "could not remove $NODE/kubelet"
  for ns in $(ip netns list | awk '$1 ~ /^cni-/ {print $1}'); do ip netns delete "$ns" 2>/dev/null || true; done
  ip link delete "$BRIDGE" 2>/dev/null || true
  iptables -t nat -S POSTROUTING | grep -e "-s ${POD_CIDR%.0/24}\." | grep -e '-j CNI-' | while read -r rule; do
    chain="${rule##*-j }"
    eval "iptables -t nat -D ${rule#-A }" || true
    iptables -t nat -F "$chain" 2>/dev/null && iptables -t nat -X "$chain" 2>/dev/null || true
  done || true
  rm -rf /var/lib/cni/networks/ffjob
  "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
  # The kubelet's own chains, which kube-proxy leaves: KUBE-FIREWALL (drops traffic from
  # outside to 127.0.0.0/8, jumped to from INPUT and OUTPUT) and its canaries.
  local ipt table
  for ipt in iptables ip6tables; do
    while "$ipt" -D INPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
    while "$ipt" -D OUTPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
    for table in filter nat mangle; do
      for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT; do
        "$ipt" -t "$table" -F "$chain" 2>/dev/null && "$ipt" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
  # kube-router's firewall, which v2.1.0's --cleanup-config leaves in place: the jumps from
  # INPUT, FORWARD and OUTPUT to its KUBE-ROUTER-* chains, those, a KUBE-POD-FW-* chain per
  # pod and a KUBE-NWPLCY-* chain per policy (all flushed before any is deleted: they jump
  # to each other), then the KUBE-SRC-* and KUBE-DST-* ipsets those rules matched on.
  local builtin chains set
  for ipt in iptables ip6tables; do
    for builtin in INPUT FORWARD OUTPUT; do
      "$ipt" -S "$builtin" | grep -e '-j KUBE-ROUTER-' | while read -r rule; do
        eval "$ipt -D ${rule#-A }" || true
      done || true
    done
    chains="$("$ipt" -S | awk '$1 == "-N" && $2 ~ /^KUBE-(ROUTER|POD-FW|NWPLCY)-/ {print $2}')"
    for chain in $chains; do "$ipt" -F "$chain" || true; done
    for chain in $chains; do "$ipt" -X "$chain" || true; done
  done
  for set in $(ipset list -n | grep -E 'KUBE-(SRC|DST)-'); do ipset destroy "$set" || true; done
}

PIDS=()
stop_node() {
  local pid
  # The kubelet first, or it would restart the containers removed below.
  for pid in "${PIDS[@]:1}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:1}"; do wait "$pid" 2>/dev/null || true; done
  if [[ ${#PIDS[@]} -gt 0 ]]; then
    remove_pods
    kill "${PIDS[0]}" 2>/dev/null || true
    wait "${PIDS[0]}" 2>/dev/null || true
  fi
  clean_host
  log "stopped"
}

clean_host
mkdir -p "$NODE/cni" "$NODE/kubelet" "$NODE/images" "$RUN"
cp "$HERE/cni-bridge.conflist" "$NODE/cni/10-ffjob-bridge.conflist"

# containerd's defaults, with its own root, socket and CNI folders, runc by name, and
# restrict_oom_score_adj: the kubelet asks for -998 on the pod sandbox, and lowering an
# OOM score needs CAP_SYS_RESOURCE, which this machine's capability bounding set lacks
# (runc init then dies: "can't get final child's PID from pipe: EOF").
containerd config default | sed \
  -e "s|^root = .*|root = \"$NODE/containerd\"|" \
  -e "s|^state = .*|state = \"$RUN/state\"|" \
  -e "s|address = \"/run/containerd/containerd.sock\"|address = \"$SOCK\"|" \
  -e "s|sandbox_image = .*|sandbox_image = \"registry.k8s.io/pause:3.10\"|" \
  -e "s|bin_dir = \"/opt/cni/bin\"|bin_dir = \"/usr/lib/cni\"|" \
  -e "s|conf_dir = \"/etc/cni/net.d\"|conf_dir = \"$NODE/cni\"|" \
  -e "s|restrict_oom_score_adj = false|restrict_oom_score_adj = true|" > "$NODE/containerd.toml"
trap stop_node EXIT
trap 'exit 143' TERM INT
nice -n 19 containerd --config "$NODE/containerd.toml" > "$NODE/containerd.log" 2>&1 9>&- &
PIDS+=($!)
for _ in $(seq 30); do [[ -S "$SOCK" ]] && ctr version >/dev/null 2>&1 && break; sleep 1; done
# containerd re-attaches to the shims a killed run left.
remove_pods

# The pod sandbox image cannot be pulled either: the base image, sleeping.
c="$(buildah "${STORAGE[@]}" from "$(cat "$IMAGES/base")")"
buildah "${STORAGE[@]}" config --entrypoint '["/bin/sh","-c","exec sleep infinity"]' --user 65535:65535 "$c" 2>/dev/null
buildah "${STORAGE[@]}" commit --quiet --rm "$c" registry.k8s.io/pause:3.10 >/dev/null
refs=(registry.k8s.io/pause:3.10)
while read -r name; do refs+=("$(cat "$IMAGES/$name/ref")"); done < "$IMAGES/names"
for ref in "${refs[@]}"; do
  archive="$NODE/images/$(echo "$ref" | tr '/:' '__').tar"
  rm -f "$archive"
  buildah "${STORAGE[@]}" push --quiet "$ref" "oci-archive:$archive:$ref"
  ctr images import "$archive" >/dev/null
  rm -f "$archive"
  log "imported $ref"
done

# kube-proxy forwards Service addresses (the pods reach the API server as 10.0.0.1:443, the
# `kubernetes` Service). The zeros leave the host's conntrack settings alone: writing them
# needs rights this machine's sandbox may not give, and the defaults do for a test.
nice -n 19 "$BIN/kube-proxy" --kubeconfig="$KUBECONFIG" --hostname-override=ffjob-node --proxy-mode=iptables \
  --cluster-cidr="$POD_CIDR" --conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0 \
  --conntrack-tcp-timeout-close-wait=0 --iptables-localhost-nodeports=false \
  --healthz-bind-address=127.0.0.1:10256 --metrics-bind-address=127.0.0.1:10249 > "$NODE/kube-proxy.log" 2>&1 9>&- &
PIDS+=($!)
# CoreDNS, the cluster DNS, on this host's address (pods reach it from the bridge, and it
# keeps off the host's other addresses' port 53): the workers find each other as
# <pod>.<job>.<namespace>.svc, the kubernetes plugin answering from the API server.
cat > "$NODE/Corefile" <<EOF
.:53 {
    bind $FFJOB_NODE_IP
    errors
    health 127.0.0.1:18080
    ready 127.0.0.1:18181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $KUBECONFIG
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
}
EOF
nice -n 19 "$BIN/coredns" -conf "$NODE/Corefile" > "$NODE/coredns.log" 2>&1 9>&- &
PIDS+=($!)
nice -n 19 "$BIN/kube-scheduler" --kubeconfig="$KUBECONFIG" --authentication-kubeconfig="$KUBECONFIG" \
  --authorization-kubeconfig="$KUBECONFIG" --leader-elect=false --secure-port=0 > "$NODE/scheduler.log" 2>&1 9>&- &
PIDS+=($!)
nice -n 19 "$BIN/kubelet" --config="$HERE/kubelet.yaml" --kubeconfig="$KUBECONFIG" --hostname-override=ffjob-node \
  --node-ip="$FFJOB_NODE_IP" --cluster-dns="$FFJOB_NODE_IP" --cluster-domain=cluster.local --root-dir="$NODE/kubelet" --v=2 > "$NODE/kubelet.log" 2>&1 9>&- &
PIDS+=($!)
# kube-router's firewall alone (no routing, no service proxy: the bridge and kube-proxy do
# those) turns NetworkPolicies into iptables rules; it reads its node's address from the Node
# object, so it starts once the kubelet has registered it. The service range is the control
# plane's (test/cluster/control-plane.ts); its health port stays off, as its metrics are.
for _ in $(seq 120); do
  "$BIN/../bin/kubectl" --kubeconfig "$KUBECONFIG" get node ffjob-node >/dev/null 2>&1 && break
  sleep 1
done
nice -n 19 "$BIN/kube-router" --kubeconfig="$KUBECONFIG" --hostname-override=ffjob-node --run-firewall=true \
  --run-router=false --run-service-proxy=false --service-cluster-ip-range=10.0.0.0/24 --health-port=0 \
  > "$NODE/kube-router.log" 2>&1 9>&- &
PIDS+=($!)
# A test that was killed cannot stop the node: it stops when its parent is gone.
parent=$PPID
(while kill -0 "$parent" 2>/dev/null; do sleep 2; done) 9>&- &
PIDS+=($!)
log "containerd, kube-proxy, CoreDNS, kube-scheduler, kubelet and kube-router running; logs in $NODE"
wait -n "${PIDS[@]}"
log "a node process or the parent ended; see $NODE/*.log"
exit 1
