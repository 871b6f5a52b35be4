"""Starts the REAL csp-commerce binary once per test session, on a free port with a fresh SQLite
database (the demo catalog and partners load into it), and hands the tests its address, tokens
and stubs. A test that changes what the others read (test_watch.py publishes a month) starts a
server of its own with running_server().

Env: CSP_BIN (default: target/debug/csp-commerce relative to the repository root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from csp.commerce.v1 import cart_pb2_grpc, catalog_pb2_grpc, customer_pb2_grpc, order_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parents[3]
JWT_SECRET = "python-client-tests-secret-0123456789"
STARTUP_TIMEOUT_S = 60.0


def server_binary() -> Path:
    path = Path(os.environ.get("CSP_BIN", "target/debug/csp-commerce"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_file():
        pytest.exit(
            f"csp-commerce binary not found at {path}: run `cargo build --bin csp-commerce` "
            "or set CSP_BIN",
            returncode=2,
        )
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without any CSP_* or OTLP setting, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CSP_") and not k.startswith("OTEL_")
    }
    env.update(extra)
    return env


@dataclass
class Server:
    binary: Path
    address: str
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path
    # Set when the server speaks TLS (CSP_TLS_*): what a client trusts it with.
    tls: grpc.ChannelCredentials | None = None
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def token(self, partner: str = "us", role: str = "sales_agent") -> str:
        """A bearer token minted by `csp-commerce token` with the server's secret."""
        key = (partner, role)
        if key not in self._tokens:
            args = [str(self.binary), "token", "--role", role]
            if partner:
                args += ["--partner", partner]
            out = subprocess.run(
                args, env=self.env, check=True, capture_output=True, text=True, timeout=30
            )
            self._tokens[key] = out.stdout.strip()
        return self._tokens[key]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until_serving(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with (
        grpc.secure_channel(server.address, server.tls)
        if server.tls
        else grpc.insecure_channel(server.address)
    ) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"csp-commerce exited with {server.process.returncode}:\n{server.log()}"
                )
            try:
                reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"csp-commerce not serving after {STARTUP_TIMEOUT_S}s:\n{server.log()}")
            time.sleep(0.1)


def start(binary: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen([str(binary)], env=env, stdout=log, stderr=subprocess.STDOUT)


def kill_and_restart(server: Server) -> None:
    """SIGKILL the server (no drain, no trailers for its streams), then start it again on the same
    address and database file."""
    server.process.kill()
    server.process.wait()
    server.process = start(server.binary, server.env, server.log_path)
    wait_until_serving(server)


@contextmanager
def running_server(
    tmp: Path, extra_env: dict[str, str] | None = None, tls: grpc.ChannelCredentials | None = None
) -> Iterator[Server]:
    """The binary serving on a free port with a fresh SQLite database in `tmp` (plus
    `extra_env`, e.g. other CSP_* settings; `tls`: the credentials a client needs when they set
    CSP_TLS_*), stopped and cleaned up on exit."""
    binary = server_binary()
    address = f"127.0.0.1:{free_port()}"
    env = server_env(
        {
            "CSP_LISTEN": address,
            "CSP_DATABASE_URL": f"sqlite://{tmp}/x.sqlite",
            "CSP_JWT_SECRET": JWT_SECRET,
            "CSP_LOG": "warn",
            # No balancer to tell: stop without the drain grace.
            "CSP_DRAIN_GRACE_MS": "0",
            **(extra_env or {}),
        }
    )
    log_path = tmp / "server.log"
    srv = Server(binary=binary, address=address, env=env, process=start(binary, env, log_path), log_path=log_path, tls=tls)
    try:
        wait_until_serving(srv)
        yield srv
    finally:
        srv.process.terminate()
        try:
            srv.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.process.kill()
            srv.process.wait()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with ExitStack() as stack:
        try:
            srv = stack.enter_context(running_server(tmp_path_factory.mktemp("csp-commerce")))
        except RuntimeError as e:
            # Once, not as an error per test: every test needs the server.
            pytest.exit(f"could not start the server: {e}", returncode=1)
        yield srv


@pytest.fixture(scope="session")
def channel(server: Server) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        yield ch


@pytest.fixture(scope="session")
def auth(server: Server) -> list[tuple[str, str]]:
    """Call metadata for partner `us`, role sales_agent."""
    return [("authorization", f"Bearer {server.token('us', 'sales_agent')}")]


@pytest.fixture(scope="session")
def catalog(channel: grpc.Channel) -> catalog_pb2_grpc.CatalogServiceStub:
    return catalog_pb2_grpc.CatalogServiceStub(channel)


@pytest.fixture(scope="session")
def customers(channel: grpc.Channel) -> customer_pb2_grpc.CustomerServiceStub:
    return customer_pb2_grpc.CustomerServiceStub(channel)


@pytest.fixture(scope="session")
def carts(channel: grpc.Channel) -> cart_pb2_grpc.CartServiceStub:
    return cart_pb2_grpc.CartServiceStub(channel)


@pytest.fixture(scope="session")
def orders(channel: grpc.Channel) -> order_pb2_grpc.OrderServiceStub:
    return order_pb2_grpc.OrderServiceStub(channel)

