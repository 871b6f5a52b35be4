# shellcheck shell=bash disable=SC2034
# Shared by clients/generate.sh and clients/test.sh (sourced, not run): the pinned code
# generators and the checks that install what is missing. Each check is quick when the tool is
# already there, so both scripts can call them every time.
#
# Everything lands in the work tree (clients/.venv, clients/typescript/node_modules,
# clients/.cache) or comes from Debian; nothing is downloaded outside the package registries.

CLIENTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CLIENTS_DIR/.." && pwd)"

# The generators. Changing one changes the generated files: regenerate and commit them together.
GRPCIO_TOOLS_VERSION="1.85.1" # bundles protoc 35.1 (libprotoc 35.1 = protobuf Python 7.35.1)
MYPY_PROTOBUF_VERSION="5.1.0" # protoc-gen-mypy_grpc: the *_pb2_grpc.pyi service stubs
PROTOC_GEN_GO_VERSION="v1.28.1" # Debian bookworm protoc-gen-go 1.28.1
PROTOC_GEN_GO_GRPC_VERSION="1.0" # Debian bookworm protoc-gen-go-grpc (from grpc-go 1.33.3)
# protoc-gen-es: the exact version in clients/typescript/package-lock.json.

# The Go module path of clients/go (its go.mod says the same), the import root of the generated
# package; in GOPATH mode the client lives at $GOPATH/src/$GO_IMPORT_ROOT.
GO_IMPORT_ROOT="csp-commerce/clients/go"
GO_DEBIAN_PACKAGES=(golang-go golang-google-grpc-dev golang-google-genproto-dev
  golang-github-golang-protobuf-1-5-dev protoc-gen-go protoc-gen-go-grpc)

VENV="$CLIENTS_DIR/.venv"
PY="$VENV/bin/python"

say() { printf '\n==> %s\n' "$*"; }
loud() {
  printf '\n' >&2
  printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
  printf '!!! %s\n' "$@" >&2
  printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
}
die() {
  loud "$@"
  exit 1
}

# A virtualenv at clients/.venv with grpcio-tools (the protoc used for every language) and
# mypy-protobuf (the Python service stubs' generator).
ensure_python_tools() {
  if ! command -v python3 >/dev/null 2>&1; then
    die "python3 is missing: install Python 3.10 or newer (Debian: apt-get install -y python3 python3-venv)"
  fi
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    die "$(python3 --version) is too old: grpcio 1.85 and protobuf 7 need Python 3.10 or newer"
  fi
  if [[ ! -x "$PY" ]]; then
    echo "creating $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install -y python3-venv)"
  fi
  local have
  have="$("$PY" -c 'import importlib.metadata as m; print(m.version("grpcio-tools"), m.version("mypy-protobuf"))' 2>/dev/null || true)"
  if [[ "$have" != "$GRPCIO_TOOLS_VERSION $MYPY_PROTOBUF_VERSION" ]]; then
    echo "installing grpcio-tools==$GRPCIO_TOOLS_VERSION mypy-protobuf==$MYPY_PROTOBUF_VERSION into $VENV"
    "$PY" -m pip install --quiet --disable-pip-version-check "grpcio-tools==$GRPCIO_TOOLS_VERSION" \
      "mypy-protobuf==$MYPY_PROTOBUF_VERSION" ||
      die "pip could not install grpcio-tools==$GRPCIO_TOOLS_VERSION mypy-protobuf==$MYPY_PROTOBUF_VERSION"
  fi
}

# Node 20+ and clients/typescript/node_modules as locked in package-lock.json.
ensure_node_tools() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    die "node/npm are missing: the TypeScript client needs Node.js 20 or newer with npm"
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if ((major < 20)); then
    die "Node.js $(node --version) is too old: the TypeScript client needs Node.js 20 or newer"
  fi
  local ts="$CLIENTS_DIR/typescript"
  # npm writes node_modules/.package-lock.json on every install: newer than the lock = current.
  if [[ ! -f "$ts/node_modules/.package-lock.json" ||
    "$ts/package-lock.json" -nt "$ts/node_modules/.package-lock.json" ||
    "$ts/package.json" -nt "$ts/node_modules/.package-lock.json" ]]; then
    echo "npm ci in $ts"
    (cd "$ts" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
      die "npm ci failed in clients/typescript"
  fi
}

_go_tools_present() {
  command -v go >/dev/null 2>&1 && command -v protoc-gen-go >/dev/null 2>&1 &&
    command -v protoc-gen-go-grpc >/dev/null 2>&1 || return 1
  # golang-github-golang-protobuf-1-5-dev: Debian's default 1.3 package panics with protobuf 1.28.
  local status
  status="$(dpkg-query -W -f='${Status}\n' "${GO_DEBIAN_PACKAGES[@]}" 2>/dev/null || true)"
  [[ "$(grep -c '^install ok installed$' <<<"$status")" == "${#GO_DEBIAN_PACKAGES[@]}" ]]
}

# Debian's Go toolchain, grpc-go, genproto and the two protoc plugins (there is no Go module
# proxy here: everything Go comes from Debian, and builds in module mode through clients/go/go.mod's
# replace directives or in GOPATH mode).
ensure_go_tools() {
  if _go_tools_present; then
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    die "Go tools are missing and apt-get is not available: install ${GO_DEBIAN_PACKAGES[*]}"
  fi
  echo "installing Debian packages: ${GO_DEBIAN_PACKAGES[*]}"
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then sudo=(sudo); fi
  { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
    "${GO_DEBIAN_PACKAGES[@]}" >/dev/null; } ||
    die "apt-get could not install ${GO_DEBIAN_PACKAGES[*]}"
  _go_tools_present || die "Go tools still missing after apt-get install ${GO_DEBIAN_PACKAGES[*]}"
}

# Module mode, offline: clients/go/go.mod's replace directives point at Debian's sources, and no
# module is downloaded (GOPROXY=off). GOPATH holds only the build's scratch (module cache stays empty).
go_module_env() {
  export GO111MODULE=on
  export GOPATH="$CLIENTS_DIR/.cache/gomod"
  export GOFLAGS=-mod=mod
  export GOPROXY=off
  GO_PKG_DIR="$CLIENTS_DIR/go"
}

# GOPATH mode: a GOPATH whose src/$GO_IMPORT_ROOT is a symlink to clients/go, then Debian's.
go_env() {
  local gopath="$CLIENTS_DIR/.cache/gopath"
  local link="$gopath/src/$GO_IMPORT_ROOT"
  mkdir -p "$(dirname "$link")"
  if [[ "$(readlink "$link" 2>/dev/null)" != "$CLIENTS_DIR/go" ]]; then
    rm -rf "$link"
    ln -s "$CLIENTS_DIR/go" "$link"
  fi
  export GO111MODULE=off
  export GOPATH="$gopath:/usr/share/gocode"
  export GOFLAGS=
  GO_PKG_DIR="$link"
}
