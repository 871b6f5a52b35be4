package integration

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

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

// A renewal is seen on the event stream: the operator's RunRenewals, just past the commitment end,
// renews the subscription. On a server of its own (without the background pass): the pass renews
// every due subscription of the server, the other tests' too.
func TestARenewalIsSeenOnTheEventStream(t *testing.T) {
	s, err := startServer("CSP_RENEWAL_INTERVAL_MS=0")
	if err != nil {
		t.Fatalf("starting a server for the renewals: %v", err)
	}
	t.Cleanup(s.stop)
	sales, _ := as(t, s, "us", "sales_agent")
	customers := commerce.NewCustomerServiceClient(s.conn)
	customer, err := customers.CreateCustomer(sales, &commerce.CreateCustomerRequest{
		RequestId: requestID(t), CompanyName: "Go Renewals Inc", Country: "US",
		Email: "it@go-renewals.example.com", Domain: "go-renewals.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	accepted, err := customers.AcceptAgreement(sales, &commerce.AcceptAgreementRequest{
		RequestId: requestID(t), CustomerId: customer.Customer.Id, Etag: customer.Customer.Etag,
		ContactName: "Avery Example", ContactEmail: "avery@go-renewals.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	customerID := accepted.Customer.Id
	items, err := commerce.NewCatalogServiceClient(s.conn).ListAvailabilities(sales, &commerce.ListAvailabilitiesRequest{
		ProductId: "CFQ7TTC0RDXR", SkuId: "0001", Country: "US", Segment: commerce.Segment_SEGMENT_COMMERCIAL})
	if err != nil || len(items.Availabilities) != 1 {
		t.Fatalf("availabilities %v, %v", items, err)
	}
	carts := commerce.NewCartServiceClient(s.conn)
	created, err := carts.CreateCart(sales, &commerce.CreateCartRequest{
		RequestId:  requestID(t),
		CustomerId: customerID,
		Lines: []*commerce.CartLineInput{{
			CatalogItemId: items.Availabilities[0].CatalogItemId,
			Quantity:      3,
			Term:          commerce.TermDuration_TERM_DURATION_P1Y,
			BillingCycle:  commerce.BillingCycle_BILLING_CYCLE_MONTHLY,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ordered, err := carts.Checkout(sales, &commerce.CheckoutRequest{
		RequestId: requestID(t), CartId: created.Cart.Id, Etag: created.Cart.Etag})
	if err != nil {
		t.Fatal(err)
	}
	subscriptionID := ordered.Order.Lines[0].SubscriptionId

	stream, err := commerce.NewSubscriptionEventServiceClient(s.conn).WatchSubscriptionEvents(sales,
		&commerce.WatchSubscriptionEventsRequest{
			Start:      &commerce.WatchSubscriptionEventsRequest_AfterRevision{AfterRevision: 0},
			CustomerId: customerID})
	if err != nil {
		t.Fatal(err)
	}
	var seen []*commerce.SubscriptionEvent
	read := func(count int) {
		for len(seen) < count {
			message, err := stream.Recv()
			if err != nil {
				t.Fatalf("after %d events: %v", len(seen), err)
			}
			seen = append(seen, message.GetEvents().GetEvents()...)
		}
	}
	read(1) // the purchase, replayed
	oldEnd := seen[0].GetSubscription().GetCommitmentEndTime().AsTime()
	// Just past its commitment end: the pass renews it (auto-renew is on after a purchase).
	operator, _ := as(t, s, "", "operator")
	done, err := commerce.NewOperatorServiceClient(s.conn).RunRenewals(operator, &commerce.RunRenewalsRequest{
		Until: timestamppb.New(oldEnd.Add(time.Second))})
	if err != nil || done.Renewed != 1 || done.Expired != 0 {
		t.Fatalf("RunRenewals %v, %v", done, err)
	}
	read(2)

	createdEvent, renewed := seen[0], seen[1]
	if createdEvent.Type != commerce.SubscriptionEventType_SUBSCRIPTION_EVENT_TYPE_CREATED ||
		createdEvent.SubscriptionId != subscriptionID || !createdEvent.GetSubscription().GetAutoRenew() {
		t.Fatalf("created event %v", createdEvent)
	}
	if renewed.Type != commerce.SubscriptionEventType_SUBSCRIPTION_EVENT_TYPE_RENEWED ||
		renewed.SubscriptionId != subscriptionID || renewed.Revision <= createdEvent.Revision {
		t.Fatalf("renewed event %v after %v", renewed, createdEvent)
	}
	// The term restarts at the old end: a year on, the same seats, still active.
	sub := renewed.Subscription
	if !sub.GetCommitmentEndTime().AsTime().Equal(oldEnd.AddDate(1, 0, 0)) ||
		sub.GetStatus() != commerce.SubscriptionStatus_SUBSCRIPTION_STATUS_ACTIVE || sub.GetQuantity() != 3 {
		t.Fatalf("renewed subscription %v (the old end %v)", sub, oldEnd)
	}
	// The new term's first month billed at the demo month's price, as the purchase was.
	tx := renewed.Transaction
	if tx.GetType() != commerce.TransactionType_TRANSACTION_TYPE_RENEW || tx.GetSubscriptionId() != subscriptionID ||
		!tx.GetPeriodStartTime().AsTime().Equal(oldEnd) ||
		commerce.MoneyString(tx.GetAmount()) != commerce.MoneyString(createdEvent.Transaction.GetAmount()) {
		t.Fatalf("renew transaction %v, purchase %v", tx, createdEvent.Transaction)
	}
}
