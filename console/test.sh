#!/usr/bin/env bash
# The console in a real browser: Debian's Chromium (apt-get install chromium), driven by
# playwright-core (nothing downloads a browser), against the real server binary with a fresh
# SQLite database and the demo data. Screenshots of every step go to console/screenshots/
# (ignored; CSP_SCREENSHOTS to change), the first paint's timing to timing.json there.
#
#   console/test.sh                       # builds target/debug/csp-commerce first
#   CSP_BIN=/path/to/csp-commerce console/test.sh
#   CSP_CHROMIUM=/path/to/chromium console/test.sh
#   console/test.sh --test-name-pattern=paints   # arguments go to `node --test`
#
# Fails loudly, never passes silently, when Chromium is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
loud() {
  printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
  printf '!!! %s\n' "$@" >&2
  printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
  exit 1
}

export CSP_CHROMIUM="${CSP_CHROMIUM:-/usr/bin/chromium}"
[[ -x "$CSP_CHROMIUM" ]] ||
  loud "Chromium is missing at $CSP_CHROMIUM: the console's browser tests did NOT run" \
    "install it (Debian: apt-get install -y chromium; .ci/run does) or set CSP_CHROMIUM"
command -v node >/dev/null 2>&1 || loud "node is missing: the console's browser tests need Node.js 20 or newer"

if [[ -z "${CSP_BIN:-}" ]]; then
  (cd "$repo" && cargo build --quiet --bin csp-commerce) || loud "cargo build --bin csp-commerce failed"
  CSP_BIN="$repo/target/debug/csp-commerce"
fi
[[ "$CSP_BIN" == /* ]] || CSP_BIN="$repo/$CSP_BIN"
[[ -x "$CSP_BIN" ]] || loud "CSP_BIN=$CSP_BIN is not an executable"
export CSP_BIN
export CSP_DEMO_DIR="$repo/data/demo"
export CSP_SCREENSHOTS="${CSP_SCREENSHOTS:-$here/screenshots}"

cd "$here"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
# Bundled next to node_modules, so the bundle finds playwright-core.
out="$here/node_modules/.cache/console-tests"
node build.mjs --tests="$out"
echo "$("$CSP_CHROMIUM" --version), playwright-core $(node -p 'require("playwright-core/package.json").version'), $CSP_BIN"
node --test --test-reporter=spec --test-concurrency=1 "$@" "$out/scenarios.mjs"
echo "screenshots in $CSP_SCREENSHOTS"
