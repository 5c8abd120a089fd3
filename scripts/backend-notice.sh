#!/usr/bin/env bash
# Run by `npm ci` / `npm install` (the prepare script). npm ci rebuilds node_modules from the
# lockfile, which drops the tensorflow backend that scripts/build-tfjs-node.sh installed
# with --no-save; say so, and how to get it back, instead of letting the next run fall back
# to wasm (about 1.5x slower) without a word.
cache=${TFJS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ffjob-tfjs-node}
cd "$(dirname "$0")/.." || exit 0
for variant in cpu gpu; do
  pkg=@tensorflow/tfjs-node; [ "$variant" = gpu ] && pkg=@tensorflow/tfjs-node-gpu
  if compgen -G "$cache/$variant-*/.done" >/dev/null && [ ! -d "node_modules/$pkg" ]; then
    echo "ffjob: npm removed the $variant tensorflow backend built earlier; 'bash scripts/build-tfjs-node.sh $variant' puts it back from its cache (about 15 s)" >&2
  fi
done
exit 0
