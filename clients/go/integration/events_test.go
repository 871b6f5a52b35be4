package integration

import (
	"context"
	"testing"

	commerce "csp-commerce/clients/go/commercev1"
)

// WatchSubscriptionEvents: a quantity change made while subscribed is seen on the partner's event
// stream, right after the purchase's own event, at the next revisions.
func TestAQuantityChangeIsSeenOnTheEventStream(t *testing.T) {
	events := commerce.NewSubscriptionEventServiceClient(srv.conn)
	// The partner's current revision: what a stream from now says first.
	first, cancelFirst := context.WithCancel(ctx(t))
	now, err := events.WatchSubscriptionEvents(first, &commerce.WatchSubscriptionEventsRequest{
		Start: &commerce.WatchSubscriptionEventsRequest_FromNow{FromNow: true}})
	if err != nil {
		t.Fatal(err)
	}
	message, err := now.Recv()
	cancelFirst()
	if err != nil || message.GetProgress() == nil {
		t.Fatalf("first message %v, %v", message, err)
	}
	head := message.GetProgress().CurrentRevision

	customer := newCustomer(t, "Go Events Inc")
	item := catalogItem(t, "CFQ7TTC0RDXR", "0001", "US", commerce.Segment_SEGMENT_COMMERCIAL)
	created, err := cartClient().CreateCart(ctx(t), &commerce.CreateCartRequest{
		RequestId:  requestID(t),
		CustomerId: customer.Id,
		Lines: []*commerce.CartLineInput{{
			CatalogItemId: item.CatalogItemId,
			Quantity:      5,
			Term:          commerce.TermDuration_TERM_DURATION_P1Y,
			BillingCycle:  commerce.BillingCycle_BILLING_CYCLE_MONTHLY,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ordered, err := cartClient().Checkout(ctx(t), &commerce.CheckoutRequest{
		RequestId: requestID(t), CartId: created.Cart.Id, Etag: created.Cart.Etag})
	if err != nil {
		t.Fatal(err)
	}
	subscriptionID := ordered.Order.Lines[0].SubscriptionId

	// Only this customer's events: other tests buy for theirs.
	stream, err := events.WatchSubscriptionEvents(ctx(t), &commerce.WatchSubscriptionEventsRequest{
		Start:      &commerce.WatchSubscriptionEventsRequest_AfterRevision{AfterRevision: head},
		CustomerId: customer.Id})
	if err != nil {
		t.Fatal(err)
	}
	changed, err := orderClient().ChangeSubscriptionQuantity(ctx(t), &commerce.ChangeSubscriptionQuantityRequest{
		RequestId: requestID(t), SubscriptionId: subscriptionID, Quantity: 8})
	if err != nil {
		t.Fatal(err)
	}
	var seen []*commerce.SubscriptionEvent
	for len(seen) < 2 {
		message, err := stream.Recv()
		if err != nil {
			t.Fatalf("after %d events: %v", len(seen), err)
		}
		seen = append(seen, message.GetEvents().GetEvents()...)
	}
	createdEvent, quantity := seen[0], seen[1]
	if createdEvent.Type != commerce.SubscriptionEventType_SUBSCRIPTION_EVENT_TYPE_CREATED ||
		quantity.Type != commerce.SubscriptionEventType_SUBSCRIPTION_EVENT_TYPE_QUANTITY_CHANGED {
		t.Fatalf("events %v", seen)
	}
	if !(head < createdEvent.Revision && createdEvent.Revision < quantity.Revision) {
		t.Fatalf("revisions %d, %d after %d", createdEvent.Revision, quantity.Revision, head)
	}
	if quantity.SubscriptionId != subscriptionID || quantity.CustomerId != customer.Id ||
		quantity.Subscription.GetQuantity() != 8 {
		t.Fatalf("quantity event %v", quantity)
	}
	tx := quantity.Transaction
	if tx.GetType() != commerce.TransactionType_TRANSACTION_TYPE_ADD_QUANTITY || tx.GetQuantityDelta() != 3 ||
		commerce.MoneyString(tx.GetAmount()) != commerce.MoneyString(changed.Transaction.GetAmount()) {
		t.Fatalf("transaction %v, answered %v", tx, changed.Transaction)
	}
}
