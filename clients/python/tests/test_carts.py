"""The buying flow: an item found via ListAvailabilities, a cart, its review, checkout, orders."""

from __future__ import annotations

from csp.commerce.money import to_decimal
from csp.commerce.v1 import cart_pb2, common_pb2, order_pb2
from support import catalog_item, new_customer, request_id


def test_cart_review_checkout_and_order_history(catalog, customers, carts, orders, auth):
    customer = new_customer(customers, auth, "Python Cart Flow Inc")
    assert customer.agreement.contact_name
    # Microsoft Intune (CFQ7TTC0RDXR:0001), commercial, in the US.
    item = catalog_item(catalog, auth, "CFQ7TTC0RDXR", "0001", "US")
    assert item.currency_code == "USD"

    cart = carts.CreateCart(
        cart_pb2.CreateCartRequest(
            request_id=request_id(),
            customer_id=customer.id,
            lines=[
                cart_pb2.CartLineInput(
                    catalog_item_id=item.catalog_item_id,
                    quantity=5,
                    term=common_pb2.TERM_DURATION_P1Y,
                    billing_cycle=common_pb2.BILLING_CYCLE_ANNUAL,
                )
            ],
        ),
        metadata=auth,
    ).cart
    assert cart.status == cart_pb2.CART_STATUS_ACTIVE

    # Reading the cart is its review: every rule evaluated now, prices and totals.
    review = carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart.id), metadata=auth).cart
    assert not review.problems
    assert len(review.lines) == 1 and not review.lines[0].problems, review.lines
    line = review.lines[0]
    assert line.unit_term_price.currency_code == "USD" and line.unit_term_price.units > 0
    assert to_decimal(line.term_price) == 5 * to_decimal(line.unit_term_price)
    # P1Y billed annually: one charge a year, the whole term.
    assert line.billing_periods == 1 and line.billing_period_charge == line.term_price
    assert list(review.totals) == [line.term_price]
    assert list(review.first_charge_totals) == [line.billing_period_charge]

    checkout = cart_pb2.CheckoutRequest(
        request_id=request_id(), cart_id=review.id, etag=review.etag
    )
    order = carts.Checkout(checkout, metadata=auth).order
    assert order.order_number.startswith("ORD-")
    assert order.status in (order_pb2.ORDER_STATUS_PENDING, order_pb2.ORDER_STATUS_COMPLETED)
    assert order.cart_id == cart.id
    assert order.total == review.totals[0]
    assert order.first_charge_total == review.first_charge_totals[0]
    assert order.lines[0].term_price == line.term_price
    assert order.lines[0].subscription_id

    # Checkout is idempotent: the same request id returns the same order.
    assert carts.Checkout(checkout, metadata=auth).order.id == order.id

    history = orders.ListOrders(
        order_pb2.ListOrdersRequest(customer_id=customer.id), metadata=auth
    ).orders
    assert [o.id for o in history] == [order.id]
