"""WatchSubscriptionEvents: a quantity change made while subscribed is seen on the partner's
event stream, right after the purchase's own event, at the next revisions; and a renewal, driven
by the operator's RunRenewals on a server of its own (the pass renews every due subscription of
the server, the other tests' too)."""

from __future__ import annotations

from typing import Iterator

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from conftest import Server, running_server
from csp.commerce.v1 import cart_pb2, cart_pb2_grpc, catalog_pb2_grpc, common_pb2, customer_pb2_grpc
from csp.commerce.v1 import operator_pb2, operator_pb2_grpc, order_pb2, subscription_events_pb2
from csp.commerce.v1 import subscription_events_pb2_grpc
from support import catalog_item, new_customer, request_id

# The deadline of the stream, so a read that stalls fails the test instead of hanging it.
STREAM_DEADLINE_S = 15


def buy(
    catalog: catalog_pb2_grpc.CatalogServiceStub,
    customers: customer_pb2_grpc.CustomerServiceStub,
    carts: cart_pb2_grpc.CartServiceStub,
    auth: list[tuple[str, str]],
    name: str,
    quantity: int,
) -> tuple[str, str]:
    """Microsoft Intune, P1Y billed monthly, for a new customer: (customer id, subscription id)."""
    customer = new_customer(customers, auth, name)
    item = catalog_item(catalog, auth, "CFQ7TTC0RDXR", "0001", "US")
    cart = carts.CreateCart(
        cart_pb2.CreateCartRequest(
            request_id=request_id(),
            customer_id=customer.id,
            lines=[
                cart_pb2.CartLineInput(
                    catalog_item_id=item.catalog_item_id,
                    quantity=quantity,
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
    return customer.id, order.lines[0].subscription_id


def test_a_quantity_change_is_seen_on_the_event_stream(channel, catalog, customers, carts, orders, auth):
    events = subscription_events_pb2_grpc.SubscriptionEventServiceStub(channel)
    now = events.WatchSubscriptionEvents(
        subscription_events_pb2.WatchSubscriptionEventsRequest(from_now=True),
        metadata=auth,
        timeout=STREAM_DEADLINE_S,
    )
    head = next(now).progress.current_revision
    now.cancel()

    customer_id, subscription_id = buy(catalog, customers, carts, auth, "Python Events Inc", 5)

    # Only this customer's events: other tests of the session buy for theirs.
    stream = events.WatchSubscriptionEvents(
        subscription_events_pb2.WatchSubscriptionEventsRequest(after_revision=head, customer_id=customer_id),
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
    assert quantity.subscription_id == subscription_id and quantity.customer_id == customer_id
    assert quantity.subscription.quantity == 8
    assert quantity.transaction.type == order_pb2.TRANSACTION_TYPE_ADD_QUANTITY
    assert quantity.transaction.quantity_delta == 3
    assert quantity.transaction.amount == changed.transaction.amount


@pytest.fixture
def renewals_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own, without the background pass: the test drives the renewals."""
    with running_server(tmp_path_factory.mktemp("csp-commerce-renewals"), {"CSP_RENEWAL_INTERVAL_MS": "0"}) as srv:
        yield srv


def test_a_renewal_is_seen_on_the_event_stream(renewals_server: Server):
    auth = [("authorization", f"Bearer {renewals_server.token('us', 'sales_agent')}")]
    operator_auth = [("authorization", f"Bearer {renewals_server.token('', 'operator')}")]
    with grpc.insecure_channel(renewals_server.address) as channel:
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        customers = customer_pb2_grpc.CustomerServiceStub(channel)
        carts = cart_pb2_grpc.CartServiceStub(channel)
        customer_id, subscription_id = buy(catalog, customers, carts, auth, "Python Renewals Inc", 3)
        events = subscription_events_pb2_grpc.SubscriptionEventServiceStub(channel)
        stream = events.WatchSubscriptionEvents(
            subscription_events_pb2.WatchSubscriptionEventsRequest(after_revision=0, customer_id=customer_id),
            metadata=auth,
            timeout=STREAM_DEADLINE_S,
        )
        seen: list[subscription_events_pb2.SubscriptionEvent] = []
        try:
            while not seen:  # the purchase, replayed
                message = next(stream)
                if message.WhichOneof("event") == "events":
                    seen += list(message.events.events)
            created = seen[0]
            old_end = created.subscription.commitment_end_time.ToDatetime()
            # Just past its commitment end: the pass renews it (auto-renew is on after a purchase).
            until = Timestamp()
            until.FromDatetime(old_end)
            until.seconds += 1
            operator = operator_pb2_grpc.OperatorServiceStub(channel)
            done = operator.RunRenewals(operator_pb2.RunRenewalsRequest(until=until), metadata=operator_auth)
            assert (done.renewed, done.expired) == (1, 0)
            while len(seen) < 2:
                message = next(stream)
                if message.WhichOneof("event") == "events":
                    seen += list(message.events.events)
        finally:
            stream.cancel()

    assert created.type == subscription_events_pb2.SUBSCRIPTION_EVENT_TYPE_CREATED
    assert created.subscription_id == subscription_id and created.subscription.auto_renew
    renewed = seen[1]
    assert renewed.type == subscription_events_pb2.SUBSCRIPTION_EVENT_TYPE_RENEWED
    assert renewed.subscription_id == subscription_id and renewed.revision > created.revision
    # The term restarts at the old end: a year on, the same seats, still active.
    assert renewed.subscription.commitment_end_time.ToDatetime() == old_end.replace(year=old_end.year + 1)
    assert renewed.subscription.status == order_pb2.SUBSCRIPTION_STATUS_ACTIVE
    assert renewed.subscription.quantity == 3
    assert renewed.transaction.type == order_pb2.TRANSACTION_TYPE_RENEW
    assert renewed.transaction.subscription_id == subscription_id
    assert renewed.transaction.period_start_time.ToDatetime() == old_end
    # The new term's first month billed at the demo month's price, as the purchase was.
    assert renewed.transaction.amount == created.transaction.amount
