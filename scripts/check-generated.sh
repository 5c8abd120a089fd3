#!/usr/bin/env bash
# Fails when the committed generated code differs from what `npm run proto` produces now.
set -euo pipefail
cd "$(dirname "$0")/.."
npx buf generate
if ! git diff --quiet -- proto/gen || [ -n "$(git ls-files --others --exclude-standard proto/gen)" ]; then
  echo "proto/gen is stale: run 'npm run proto' and commit the result" >&2
  git status --short proto/gen >&2
  exit 1
fi
