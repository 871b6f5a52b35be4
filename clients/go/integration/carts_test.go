package integration

import (
	"strings"
	"testing"

	commerce "csp-commerce/clients/go/commercev1"
)

// The buying flow: an item found via ListAvailabilities, a cart, its review, checkout, orders.
func TestCartReviewCheckoutAndOrderHistory(t *testing.T) {
	customer := newCustomer(t, "Go Cart Flow Inc")
	// Microsoft Intune (CFQ7TTC0RDXR:0001), commercial, in the US.
	item := catalogItem(t, "CFQ7TTC0RDXR", "0001", "US", commerce.Segment_SEGMENT_COMMERCIAL)
	if item.CurrencyCode != "USD" {
		t.Fatalf("currency %s", item.CurrencyCode)
	}
	created, err := cartClient().CreateCart(ctx(t), &commerce.CreateCartRequest{
		RequestId:  requestID(t),
		CustomerId: customer.Id,
		Lines: []*commerce.CartLineInput{{
			CatalogItemId: item.CatalogItemId,
			Quantity:      5,
			Term:          commerce.TermDuration_TERM_DURATION_P1Y,
			BillingCycle:  commerce.BillingCycle_BILLING_CYCLE_ANNUAL,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.Cart.Status != commerce.CartStatus_CART_STATUS_ACTIVE {
		t.Fatalf("cart status %v", created.Cart.Status)
	}

	// Reading the cart is its review: every rule evaluated now, prices and totals.
	got, err := cartClient().GetCart(ctx(t), &commerce.GetCartRequest{CartId: created.Cart.Id})
	if err != nil {
		t.Fatal(err)
	}
	review := got.Cart
	if len(review.Problems) != 0 || len(review.Lines) != 1 || len(review.Lines[0].Problems) != 0 {
		t.Fatalf("unexpected review %v", review)
	}
	line := review.Lines[0]
	if line.UnitTermPrice.GetCurrencyCode() != "USD" || line.UnitTermPrice.GetUnits() <= 0 || len(review.Totals) != 1 {
		t.Fatalf("unexpected prices %v", review)
	}
	// P1Y billed annually: one charge a year, the whole term.
	total := commerce.MoneyString(review.Totals[0])
	if total != commerce.MoneyString(line.TermPrice) || line.BillingPeriods != 1 ||
		commerce.MoneyString(line.BillingPeriodCharge) != total ||
		len(review.FirstChargeTotals) != 1 || commerce.MoneyString(review.FirstChargeTotals[0]) != total {
		t.Fatalf("total %s, line %v", total, line)
	}

	checkout := &commerce.CheckoutRequest{RequestId: requestID(t), CartId: review.Id, Etag: review.Etag}
	ordered, err := cartClient().Checkout(ctx(t), checkout)
	if err != nil {
		t.Fatal(err)
	}
	order := ordered.Order
	if !strings.HasPrefix(order.OrderNumber, "ORD-") || order.CartId != review.Id ||
		(order.Status != commerce.OrderStatus_ORDER_STATUS_PENDING && order.Status != commerce.OrderStatus_ORDER_STATUS_COMPLETED) ||
		commerce.MoneyString(order.Total) != total || commerce.MoneyString(order.FirstChargeTotal) != total ||
		order.Lines[0].SubscriptionId == "" {
		t.Fatalf("unexpected order %v", order)
	}
	// Checkout is idempotent: the same request id returns the same order.
	again, err := cartClient().Checkout(ctx(t), checkout)
	if err != nil || again.Order.Id != order.Id {
		t.Fatalf("retried checkout: %v %v", again, err)
	}

	history, err := orderClient().ListOrders(ctx(t), &commerce.ListOrdersRequest{CustomerId: customer.Id})
	if err != nil {
		t.Fatal(err)
	}
	if len(history.Orders) != 1 || history.Orders[0].Id != order.Id {
		t.Fatalf("order history %v", history.Orders)
	}
}
