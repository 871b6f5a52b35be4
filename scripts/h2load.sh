#!/usr/bin/env bash
# Cross-check of `cargo bench --bench load -- --scenario get-sku` with an independent load tool:
# nghttp2's h2load sends GetSku to the release server, 64 in flight over 4 connections.
#
#   cargo build --release && scripts/h2load.sh
#
# Environment: CSP_BIN (default target/release/csp-commerce), REQUESTS (default 200000),
# PRODUCT / SKU (default CFQ7TTC0LH18 / 0001). Installs h2load and nghttp (Debian package
# nghttp2-client) when missing. Starts the server on a fresh SQLite file and a free loopback
# port, and always stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${CSP_BIN:-target/release/csp-commerce}
REQUESTS=${REQUESTS:-200000}
PRODUCT=${PRODUCT:-CFQ7TTC0LH18}
SKU=${SKU:-0001}
SECRET=h2load-bench-secret-0123456789abcdef

if [[ ! -x $BIN ]]; then
  echo "error: $BIN does not exist: run \`cargo build --release\` first (or set CSP_BIN)" >&2
  exit 1
fi
if ! command -v h2load >/dev/null || ! command -v nghttp >/dev/null; then
  echo "==> installing nghttp2-client (h2load, nghttp)"
  apt-get update && apt-get install -y nghttp2-client
fi

work=$(mktemp -d /tmp/csp-h2load-XXXXXX)
server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port/csp.commerce.v1.CatalogService/GetSku"

# The request body: one gRPC message (flag 0, 4-byte big-endian length, protobuf bytes) of
# GetSkuRequest { product_id = 1, sku_id = 2 }, encoded here independently of the Rust code.
python3 - "$PRODUCT" "$SKU" "$work/body.bin" <<'PY'
import struct, sys

def field(number, text):
    data = text.encode()
    assert len(data) < 128, "one-byte lengths only"
    return bytes([number << 3 | 2, len(data)]) + data

product, sku, out = sys.argv[1:]
message = field(1, product) + field(2, sku)
open(out, "wb").write(b"\x00" + struct.pack(">I", len(message)) + message)
PY

echo "==> starting $BIN on 127.0.0.1:$port (fresh SQLite in $work)"
CSP_LISTEN=127.0.0.1:$port CSP_DATABASE_URL="sqlite://$work/csp.sqlite" \
  CSP_JWT_SECRET=$SECRET CSP_LOG=warn "$BIN" serve &
server_pid=$!

token=$(CSP_JWT_SECRET=$SECRET CSP_LOG=warn "$BIN" token --partner us --role sales_agent)
headers=(-H 'content-type: application/grpc' -H 'te: trailers' -H "authorization: Bearer $token")

# One call with nghttp, printing every frame: ready when the answer's trailers say grpc-status 0.
one_call() { nghttp -v -t 2 "${headers[@]}" -d "$work/body.bin" "$url" 2>&1 | tr -d '\0' || true; }
ready=
for _ in $(seq 1 600); do
  kill -0 "$server_pid" 2>/dev/null || { echo "error: the server exited" >&2; exit 1; }
  if one_call | grep -a -q 'grpc-status: 0'; then ready=1; break; fi
  sleep 0.05
done
[[ -n $ready ]] || { echo "error: GetSku never answered grpc-status 0" >&2; one_call >&2; exit 1; }

echo "==> one GetSku with nghttp on a new connection: the answer's headers and trailers (seconds since connect)"
answer=$(one_call)
grep -a -E 'recv \(stream_id=[0-9]+\) (:status|content-type|grpc-status|grpc-message):' <<<"$answer" | sed 's/^/    /'
if ! grep -a -q 'grpc-status: 0' <<<"$answer"; then
  echo "error: GetSku did not answer grpc-status 0" >&2
  exit 1
fi

echo "==> h2load -n $REQUESTS -c 4 -m 16 (64 in flight over 4 connections)"
h2load -n "$REQUESTS" -c 4 -m 16 "${headers[@]}" -d "$work/body.bin" "$url" | tee "$work/h2load.txt"

echo
echo "==> summary"
grep -E '^finished in' "$work/h2load.txt"
grep -E '^requests:|^status codes:' "$work/h2load.txt"
grep -E '^time for request:' "$work/h2load.txt"
# h2load checks only the HTTP status (200 for any gRPC answer), not the grpc-status trailer:
# the nghttp call above is the check that the very same request is answered OK.
if ! grep -Eq "^status codes: $REQUESTS 2xx" "$work/h2load.txt"; then
  echo "error: not every request was answered 200" >&2
  exit 1
fi
