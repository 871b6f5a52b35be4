"""Errors carry google.rpc details in `grpc-status-details-bin` (decoded by grpcio-status)."""

from __future__ import annotations

import grpc
import pytest

from csp.commerce.v1 import cart_pb2, catalog_pb2, common_pb2
from support import (
    BadRequest,
    ErrorInfo,
    PreconditionFailure,
    catalog_item,
    detail,
    new_customer,
    request_id,
)


def test_a_negative_page_size_is_a_bad_request_naming_the_field(catalog, auth):
    with pytest.raises(grpc.RpcError) as raised:
        catalog.ListProducts(catalog_pb2.ListProductsRequest(page_size=-1), metadata=auth)
    error = raised.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad_request = detail(error, BadRequest)
    assert [v.field for v in bad_request.field_violations] == ["page_size"]
    assert bad_request.field_violations[0].description
    info = detail(error, ErrorInfo)
    assert info.domain == "csp-commerce" and info.reason


def test_an_addon_without_its_base_fails_checkout_with_a_precondition_failure(
    catalog, customers, carts, auth
):
    customer = new_customer(customers, auth, "Python Addon Alone Inc")  # owns no base
    # Intune Extra Storage (CFQ7TTC0O3H3:0001) is an add-on of Intune (CFQ7TTC0RDXR:0001).
    addon = catalog_item(catalog, auth, "CFQ7TTC0O3H3", "0001", "US")
    cart = carts.CreateCart(
        cart_pb2.CreateCartRequest(
            request_id=request_id(),
            customer_id=customer.id,
            lines=[
                cart_pb2.CartLineInput(
                    catalog_item_id=addon.catalog_item_id,
                    quantity=1,
                    term=common_pb2.TERM_DURATION_P1M,
                    billing_cycle=common_pb2.BILLING_CYCLE_MONTHLY,
                )
            ],
        ),
        metadata=auth,
    ).cart
    assert [p.code for p in cart.lines[0].problems] == ["ADDON_BASE_MISSING"]

    with pytest.raises(grpc.RpcError) as raised:
        carts.Checkout(
            cart_pb2.CheckoutRequest(request_id=request_id(), cart_id=cart.id, etag=cart.etag),
            metadata=auth,
        )
    error = raised.value
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    violations = detail(error, PreconditionFailure).violations
    assert [(v.type, v.subject) for v in violations] == [
        ("ADDON_BASE_MISSING", f"lines/{cart.lines[0].id}")
    ]
    assert violations[0].description
