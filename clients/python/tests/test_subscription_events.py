"""WatchSubscriptionEvents: a quantity change made while subscribed is seen on the partner's
event stream, right after the purchase's own event, at the next revisions."""

from __future__ import annotations

import grpc

from csp.commerce.v1 import cart_pb2, common_pb2, order_pb2, subscription_events_pb2
from csp.commerce.v1 import subscription_events_pb2_grpc
from support import catalog_item, new_customer, request_id

# The deadline of the stream, so a read that stalls fails the test instead of hanging it.
STREAM_DEADLINE_S = 15


def test_a_quantity_change_is_seen_on_the_event_stream(channel, catalog, customers, carts, orders, auth):
    events = subscription_events_pb2_grpc.SubscriptionEventServiceStub(channel)
    now = events.WatchSubscriptionEvents(
        subscription_events_pb2.WatchSubscriptionEventsRequest(from_now=True),
        metadata=auth,
        timeout=STREAM_DEADLINE_S,
    )
    head = next(now).progress.current_revision
    now.cancel()

    customer = new_customer(customers, auth, "Python Events Inc")
    item = catalog_item(catalog, auth, "CFQ7TTC0RDXR", "0001", "US")
    cart = carts.CreateCart(
        cart_pb2.CreateCartRequest(
            request_id=request_id(),
            customer_id=customer.id,
            lines=[
                cart_pb2.CartLineInput(
                    catalog_item_id=item.catalog_item_id,
                    quantity=5,
                    term=common_pb2.TERM_DURATION_P1Y,
                    billing_cycle=common_pb2.BILLING_CYCLE_MONTHLY,
                )
            ],
        ),
        metadata=auth,
    ).cart
    order = carts.Checkout(
        cart_pb2.CheckoutRequest(request_id=request_id(), cart_id=cart.id, etag=cart.etag),
        metadata=auth,
    ).order
    subscription_id = order.lines[0].subscription_id

    # Only this customer's events: other tests of the session buy for theirs.
    stream = events.WatchSubscriptionEvents(
        subscription_events_pb2.WatchSubscriptionEventsRequest(after_revision=head, customer_id=customer.id),
        metadata=auth,
        timeout=STREAM_DEADLINE_S,
    )
    seen: list[subscription_events_pb2.SubscriptionEvent] = []
    try:
        changed = orders.ChangeSubscriptionQuantity(
            order_pb2.ChangeSubscriptionQuantityRequest(
                request_id=request_id(), subscription_id=subscription_id, quantity=8
            ),
            metadata=auth,
        )
        assert changed.subscription.quantity == 8
        while len(seen) < 2:
            message = next(stream)
            if message.WhichOneof("event") == "events":
                seen += list(message.events.events)
    finally:
        stream.cancel()
    assert stream.code() == grpc.StatusCode.CANCELLED

    created, quantity = seen
    assert created.type == subscription_events_pb2.SUBSCRIPTION_EVENT_TYPE_CREATED
    assert quantity.type == subscription_events_pb2.SUBSCRIPTION_EVENT_TYPE_QUANTITY_CHANGED
    assert head < created.revision < quantity.revision
    assert quantity.subscription_id == subscription_id and quantity.customer_id == customer.id
    assert quantity.subscription.quantity == 8
    assert quantity.transaction.type == order_pb2.TRANSACTION_TYPE_ADD_QUANTITY
    assert quantity.transaction.quantity_delta == 3
    assert quantity.transaction.amount == changed.transaction.amount
