"""The csp-commerce API client (hand-written; the generated stubs are in csp.commerce.v1).

    import csp.commerce
    api = csp.commerce.connect("127.0.0.1:50051", token)   # the token goes on every call
    api.catalog.ListProducts(...)                            # and .customers, .carts, .orders, .events
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import Sequence

import grpc

from csp.commerce.v1 import (
    cart_pb2_grpc,
    catalog_pb2_grpc,
    customer_pb2_grpc,
    order_pb2_grpc,
    subscription_events_pb2_grpc,
)

__all__ = ["Client", "connect"]


@dataclass(frozen=True)
class Client:
    """A stub of every csp.commerce.v1 service over one channel. Close it (or use it in a `with`
    block) when done."""

    channel: grpc.Channel
    catalog: catalog_pb2_grpc.CatalogServiceStub = field(init=False)
    customers: customer_pb2_grpc.CustomerServiceStub = field(init=False)
    carts: cart_pb2_grpc.CartServiceStub = field(init=False)
    orders: order_pb2_grpc.OrderServiceStub = field(init=False)
    events: subscription_events_pb2_grpc.SubscriptionEventServiceStub = field(init=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: the stubs are set once, here
        set_(self, "catalog", catalog_pb2_grpc.CatalogServiceStub(self.channel))
        set_(self, "customers", customer_pb2_grpc.CustomerServiceStub(self.channel))
        set_(self, "carts", cart_pb2_grpc.CartServiceStub(self.channel))
        set_(self, "orders", order_pb2_grpc.OrderServiceStub(self.channel))
        set_(self, "events", subscription_events_pb2_grpc.SubscriptionEventServiceStub(self.channel))

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect(
    address: str,
    token: str,
    *,
    tls: bool | grpc.ChannelCredentials = False,
    options: Sequence[tuple[str, object]] = (),
) -> Client:
    """A client of the server at `address` ("host:port") that sends `token` as
    `authorization: Bearer <token>` on every call (gRPC call credentials).

    tls=False: plaintext, allowed by gRPC only to a loopback address (127.0.0.1, ::1,
    localhost), so the token never crosses a network in clear. tls=True: TLS with the system's
    root certificates; or pass grpc.ssl_channel_credentials(...) for another CA or mTLS.
    `options` are grpc channel options. The channel connects on the first call.
    """
    if tls is False:
        # Local credentials: plaintext HTTP/2 that gRPC lets carry call credentials because the
        # peer is on this machine (any other address fails the call with UNAVAILABLE).
        channel_credentials = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
    elif tls is True:
        channel_credentials = grpc.ssl_channel_credentials()
    else:
        channel_credentials = tls
    credentials = grpc.composite_channel_credentials(
        channel_credentials, grpc.access_token_call_credentials(token)
    )
    return Client(grpc.secure_channel(address, credentials, options=list(options)))
