#!/usr/bin/env bash
# Builds the browser console into console/dist/ (committed; the server embeds it at compile
# time and serves it at /): npm ci from the lock file, a type check, then esbuild.
#
#   console/build.sh            # build (deterministic: same sources -> same bytes)
#   CHECK_GENERATED=1 console/build.sh   # also fail if dist/ differs from what is committed
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node/npm are missing: building the console needs Node.js 20 or newer with npm" >&2
  exit 1
fi
# npm writes node_modules/.package-lock.json on every install: newer than the lock = current.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ||
  package.json -nt node_modules/.package-lock.json ]]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
node build.mjs "$@"

if [[ "${CHECK_GENERATED:-0}" == 1 ]]; then
  untracked="$(git ls-files --others --exclude-standard -- dist)"
  if ! git diff --exit-code --stat -- dist || [[ -n "$untracked" ]]; then
    [[ -z "$untracked" ]] || printf 'untracked files in console/dist:\n%s\n' "$untracked" >&2
    echo "console/dist differs from what console/build.sh produces: run it and commit the result" >&2
    exit 1
  fi
  echo "console/dist is current"
fi
