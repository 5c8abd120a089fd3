#!/usr/bin/env bash
# The GPU check as one script, for a machine with an NVIDIA GPU but no Node and no network
# (the H200 check machine). Run from the repository root with .cache/gpu-bundle/ present
# (scripts/gpu-bundle.sh makes it); every output goes under $OUT. Each step has its own
# time limit, so one that hangs or fails leaves the others their time (~6 minutes in all).
#   OUT=/tmp/out bash bench/gpu-device.sh
# GPU_BENCH_REPEATS (20) and GPU_JOB (deploy/examples/mnist-quick.yaml) shorten a trial run;
# GPU_STEPS picks steps (default: nvidia-smi adapter ff-step fused job), GPU_JOB_LIMIT the
# job's time limit in seconds (180);
# GPU_DEVICE_LOCAL=1 leaves this machine's libraries and Vulkan drivers as they are (a test
# run against lavapipe): no .debs unpacked into /, no NVIDIA ICD forced.
set -uo pipefail

BUNDLE=.cache/gpu-bundle
OUT="${OUT:?set OUT to the folder for the results}"
RUNTIME=/tmp/ffjob-gpu
REPEATS="${GPU_BENCH_REPEATS:-20}"
JOB="${GPU_JOB:-deploy/examples/mnist-quick.yaml}"
STEPS=" ${GPU_STEPS:-nvidia-smi adapter ff-step fused job} "
JOB_LIMIT="${GPU_JOB_LIMIT:-180}"
mkdir -p "$OUT"
[[ -f "$BUNDLE/node.xz" ]] || { echo "no $BUNDLE/node.xz: run scripts/gpu-bundle.sh first" >&2; exit 1; }

# step NAME SECONDS CMD...: runs CMD with its output in $OUT/NAME.log and a line in summary.txt.
step() {
  local name="$1" limit="$2" start rc
  shift 2
  [[ "$STEPS" == *" $name "* ]] || return 0
  echo "== $name (limit ${limit}s)"
  start=$(date +%s%N)
  timeout -k 10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  rc=$?
  printf '%-12s rc=%-3s %6d ms\n' "$name" "$rc" $((($(date +%s%N) - start) / 1000000)) | tee -a "$OUT/summary.txt"
  grep -v '^Warning: maxDynamic' "$OUT/$name.log" | tail -n 30
}

if [[ "${GPU_DEVICE_LOCAL:-0}" != 1 ]]; then
  # Dawn opens the Vulkan loader, which the NVIDIA container runtime does not bring, and
  # the glvnd libraries; the driver's own ICD file is mounted but not where the loader looks.
  for deb in "$BUNDLE"/debs/*.deb; do dpkg -x "$deb" /; done
  ldconfig
  # Where the check machine mounts it first; the usual container-toolkit places after.
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json; do
    [[ -f "$icd" ]] && export VK_DRIVER_FILES="$icd" && break
  done
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-none found}" | tee "$OUT/vulkan.txt"
  export NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics
fi

# A slim image may lack the xz command; Python's lzma reads the same files.
unxz_stdout() {
  if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi
}
rm -rf "$RUNTIME" && mkdir -p "$RUNTIME"
unxz_stdout "$BUNDLE/node.xz" >"$RUNTIME/node" && chmod +x "$RUNTIME/node"
unxz_stdout "$BUNDLE/node_modules.tar.xz" | tar -x -C "$RUNTIME"
cp -a "$BUNDLE/app" "$RUNTIME/app"
export PATH="$RUNTIME:$PATH"
APP="$RUNTIME/app"

step nvidia-smi 20 nvidia-smi
step adapter 60 node --input-type=module -e "
  import { probeAdapter, describeAdapter } from '$APP/worker/ff/webgpu-device.js';
  const a = await probeAdapter();
  console.log(a ? describeAdapter(a) : 'no WebGPU adapter');
  process.exit(a ? 0 : 1);"
step ff-step 150 node "$APP/bench/gpu.js" --backend webgpu --repeats "$REPEATS" --no-job
step fused 150 node "$APP/bench/ff-step-webgpu.js"
step job "$JOB_LIMIT" node "$APP/bench/gpu.js" --backend webgpu --no-steps --job "$JOB" --scratch "$RUNTIME/runs"
# The workers' logs say why a job failed; the model and checkpoints stay behind.
cp -r "$RUNTIME/runs"/*/logs "$OUT/job-logs" 2>/dev/null
cat "$OUT/summary.txt"
