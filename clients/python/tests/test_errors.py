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
    assert [p.code for p in cart.lines[0].problems] == [common_pb2.PROBLEM_CODE_ADDON_BASE_MISSING]
    assert describe(cart.lines[0].problems[0]) == "buy one of these first: CFQ7TTC0RDXR/0001"

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
    # The same figures as the review: the description ends with them.
    assert violations[0].description.endswith("(prerequisites=CFQ7TTC0RDXR/0001)"), violations
    # The enum's name is the string ErrorInfo.reason carries (for logs).
    assert detail(error, ErrorInfo).reason == common_pb2.ProblemCode.Name(
        common_pb2.PROBLEM_CODE_ADDON_BASE_MISSING
    ).removeprefix("PROBLEM_CODE_")


def describe(problem: common_pb2.PurchaseProblem) -> str:
    """What a storefront might show: a switch on the problem code enum."""
    match problem.code:
        case common_pb2.PROBLEM_CODE_ADDON_BASE_MISSING:
            bases = ", ".join(f"{s.product_id}/{s.sku_id}" for s in problem.prerequisites)
            return f"buy one of these first: {bases}"
        case common_pb2.PROBLEM_CODE_SEAT_LIMIT_EXCEEDED:
            return f"only {problem.figures['seats_available']} seats left"
        case common_pb2.PROBLEM_CODE_UNSPECIFIED:
            return f"unknown problem: {problem.message}"
        case _:
            return problem.message


def test_a_stale_etag_is_aborted_with_the_current_etag(catalog, customers, carts, auth):
    customer = new_customer(customers, auth, "Python Stale Etag Inc")
    item = catalog_item(catalog, auth, "CFQ7TTC0RDXR", "0001", "US")
    line = cart_pb2.CartLineInput(
        catalog_item_id=item.catalog_item_id,
        quantity=1,
        term=common_pb2.TERM_DURATION_P1Y,
        billing_cycle=common_pb2.BILLING_CYCLE_MONTHLY,
    )
    cart = carts.CreateCart(
        cart_pb2.CreateCartRequest(request_id=request_id(), customer_id=customer.id),
        metadata=auth,
    ).cart
    changed = carts.AddCartLine(
        cart_pb2.AddCartLineRequest(
            request_id=request_id(), cart_id=cart.id, etag=cart.etag, line=line
        ),
        metadata=auth,
    ).cart
    with pytest.raises(grpc.RpcError) as raised:
        carts.RemoveCartLine(
            cart_pb2.RemoveCartLineRequest(
                request_id=request_id(), cart_id=cart.id, line_id=changed.lines[0].id, etag=cart.etag
            ),
            metadata=auth,
        )
    error = raised.value
    assert error.code() == grpc.StatusCode.ABORTED
    info = detail(error, ErrorInfo)
    assert info.reason == "ETAG_MISMATCH"
    # Retry at once with the etag the error carries: no read needed.
    assert info.metadata["current_etag"] == changed.etag
    removed = carts.RemoveCartLine(
        cart_pb2.RemoveCartLineRequest(
            request_id=request_id(),
            cart_id=cart.id,
            line_id=changed.lines[0].id,
            etag=info.metadata["current_etag"],
        ),
        metadata=auth,
    ).cart
    assert not removed.lines
