"""csp.commerce.connect(): a stub per service with the token on every call, plaintext only to
this machine."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import grpc
import pytest

import csp.commerce
from csp.commerce.v1 import cart_pb2, catalog_pb2, customer_pb2, order_pb2

from conftest import running_server
from support import US_FABRIKAM


def test_connect_sends_the_token_on_every_call(server):
    with csp.commerce.connect(server.address, server.token("us", "sales_agent")) as api:
        customer = api.customers.GetCustomer(
            customer_pb2.GetCustomerRequest(customer_id=US_FABRIKAM), timeout=15
        ).customer
        assert (customer.company_name, customer.country) == ("Fabrikam, Inc.", "US")
        page = api.catalog.ListProducts(
            catalog_pb2.ListProductsRequest(
                filter=catalog_pb2.CatalogFilter(country="US", text="e3"), page_size=3
            ),
            timeout=15,
        )
        assert page.products
        api.carts.ListCarts(cart_pb2.ListCartsRequest(customer_id=US_FABRIKAM), timeout=15)
        api.orders.ListOrders(order_pb2.ListOrdersRequest(customer_id=US_FABRIKAM), timeout=15)


def test_it_is_the_token_given_to_connect_that_authenticates(server):
    with csp.commerce.connect(server.address, "not-a-jwt") as api:
        with pytest.raises(grpc.RpcError) as err:
            api.customers.GetCustomer(
                customer_pb2.GetCustomerRequest(customer_id=US_FABRIKAM), timeout=15
            )
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def non_loopback_address() -> str | None:
    """This machine's address on its default route (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if address.startswith("127.") else address


def test_plaintext_to_another_machine_is_refused_before_the_token_leaves():
    host = non_loopback_address()
    if host is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with socket.socket() as listener:  # a real listener on every address: the TCP connect succeeds
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        listener.settimeout(5)
        port = listener.getsockname()[1]
        with csp.commerce.connect(f"{host}:{port}", "secret-token") as api:
            with pytest.raises(grpc.RpcError) as err:
                api.catalog.ListProducts(catalog_pb2.ListProductsRequest(), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "loopback" in (err.value.details() or ""), err.value.details()
        received = b""
        try:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(1)
                while chunk := conn.recv(65536):
                    received += chunk
        except OSError:  # timeout: nothing (more) arrived
            pass
        assert b"secret-token" not in received


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A key and a self-signed certificate for localhost and 127.0.0.1 (openssl)."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return key, cert


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_connect_over_tls_sends_the_token_with_the_channel_credentials_given(tmp_path):
    key, cert = self_signed_certificate(tmp_path)
    trust = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    tls_env = {"CSP_TLS_CERT_FILE": str(cert), "CSP_TLS_KEY_FILE": str(key)}
    (tmp_path / "server").mkdir()
    with running_server(tmp_path / "server", tls_env, tls=trust) as server:
        port = server.address.rsplit(":", 1)[1]
        with csp.commerce.connect(f"localhost:{port}", server.token(), tls=trust) as api:
            customer = api.customers.GetCustomer(
                customer_pb2.GetCustomerRequest(customer_id=US_FABRIKAM), timeout=15
            ).customer
            assert customer.company_name == "Fabrikam, Inc."
        with csp.commerce.connect(f"localhost:{port}", server.token()) as plaintext:
            with pytest.raises(grpc.RpcError) as err:
                plaintext.customers.GetCustomer(
                    customer_pb2.GetCustomerRequest(customer_id=US_FABRIKAM), timeout=15
                )
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
