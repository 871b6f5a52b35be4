#!/usr/bin/env bash
# buf's checks of the contract in proto/ (proto/buf.yaml says which rules, and why some are
# left out), with buf from the npm registry (@bufbuild/buf, pinned in scripts/buf/package.json
# and its lock; installed into scripts/buf/node_modules when missing or stale).
#
#   scripts/buf.sh lint        # style rules (STANDARD, with the exceptions in proto/buf.yaml)
#   scripts/buf.sh breaking    # proto/ against the last released contract (the baseline)
#   scripts/buf.sh check       # both (what CI runs)
#   scripts/buf.sh release     # at a release: make proto/ the new baseline, then commit it
#
# The baseline, proto/released/csp-commerce-v1.binpb, is a buf image (`buf build -o`) of the
# protos as last released: every change since must be one a generated client survives.
# Exits non-zero, loudly, when buf cannot be installed or run, or a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=scripts/buf
BUF="$TOOLS/node_modules/.bin/buf"
BASELINE=proto/released/csp-commerce-v1.binpb

die() {
  printf '\n!!! %s\n' "$@" >&2
  exit 1
}

ensure_buf() {
  command -v npm >/dev/null 2>&1 || die "npm is missing: buf comes from the npm registry (@bufbuild/buf); install Node.js 20+ with npm"
  # npm writes node_modules/.package-lock.json on every install: newer than the lock = current.
  if [[ ! -x "$BUF" || ! -f "$TOOLS/node_modules/.package-lock.json" ||
    "$TOOLS/package-lock.json" -nt "$TOOLS/node_modules/.package-lock.json" ]]; then
    echo "npm ci in $TOOLS"
    # The package's binary comes in a per-platform optional dependency: no install script runs.
    (cd "$TOOLS" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
      die "npm ci failed in $TOOLS: buf could not be installed"
  fi
  "$BUF" --version >/dev/null 2>&1 || die "buf is installed in $TOOLS but does not run ($BUF --version failed)"
}

lint() {
  echo "buf $("$BUF" --version) lint proto"
  "$BUF" lint proto || die "buf lint found style problems in proto/ (above)"
}

breaking() {
  [[ -f "$BASELINE" ]] || die "no baseline at $BASELINE: run scripts/buf.sh release on the last released commit"
  echo "buf $("$BUF" --version) breaking proto --against $BASELINE"
  "$BUF" breaking proto --against "$BASELINE" ||
    die "buf breaking: proto/ breaks the released contract (above): a generated client would break." \
      "Make the change additive (a new field, message or RPC) instead."
}

release() {
  mkdir -p "$(dirname "$BASELINE")"
  "$BUF" build proto --exclude-source-info -o "$BASELINE"
  echo "wrote $BASELINE from proto/: commit it with the release"
}

ensure_buf
case "${1:-check}" in
  lint) lint ;;
  breaking) breaking ;;
  check) lint && breaking ;;
  release) release ;;
  *) die "usage: scripts/buf.sh [lint|breaking|check|release]" ;;
esac
