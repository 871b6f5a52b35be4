// The quick start of clients/README.md, the seed's flow in 4 calls: what a demo customer may
// buy, a cart (its review), checkout, the order history. CSP_ADDR (default 127.0.0.1:50051)
// and CSP_TOKEN from the environment.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	commerce "csp-commerce/clients/go/commercev1"
)

var (
	addr     = env("CSP_ADDR", "127.0.0.1:50051")
	token    = os.Getenv("CSP_TOKEN")                 // csp-commerce token --partner us --role sales_agent
	fabrikam = "d752e4e8-b024-505a-bcbf-8881ad9e5cfb" // demo customer of partner us (data/demo/seed.json)
)

func main() {
	api, err := commerce.Dial(addr, token) // the token goes on every call
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()
	ctx := context.Background()
	// 1. What Fabrikam may buy (its country, its segments, what checkout accepts), priced.
	page, err := api.Catalog.ListOffers(ctx, &commerce.ListOffersRequest{
		CustomerId: fabrikam, Filter: &commerce.OfferFilter{Text: "e3"}, PageSize: 3})
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range page.Offers {
		fmt.Println(o.CatalogItemId, o.ProductTitle, o.Term, o.BillingCycle, commerce.MoneyString(o.TermPrice))
	}
	offer := page.Offers[0]
	// 2. A cart with its line: the answer is its review (prices, problems, totals).
	quantity := offer.MinQuantity
	if quantity < 1 {
		quantity = 1
	}
	created, err := api.Carts.CreateCart(ctx, &commerce.CreateCartRequest{
		RequestId: requestID(), CustomerId: fabrikam, // idempotency key: retry with the same one
		Lines: []*commerce.CartLineInput{{CatalogItemId: offer.CatalogItemId, Quantity: quantity,
			Term: offer.Term, BillingCycle: offer.BillingCycle}}})
	if err != nil {
		log.Fatal(err)
	}
	cart, codes, totals := created.Cart, []string{}, []string{}
	for _, p := range cart.Problems {
		codes = append(codes, p.Code.String())
	}
	for _, t := range cart.Totals {
		totals = append(totals, commerce.MoneyString(t))
	}
	fmt.Println("review", codes, "total", strings.Join(totals, " "))
	// 3. Buy it.
	bought, err := api.Carts.Checkout(ctx, &commerce.CheckoutRequest{RequestId: requestID(), CartId: cart.Id, Etag: cart.Etag})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("order", bought.Order.OrderNumber, commerce.MoneyString(bought.Order.Total))
	// 4. The customer's order history.
	history, err := api.Orders.ListOrders(ctx, &commerce.ListOrdersRequest{CustomerId: fabrikam})
	if err != nil {
		log.Fatal(err)
	}
	for _, past := range history.Orders {
		fmt.Println("history", past.OrderNumber, commerce.MoneyString(past.Total))
	}
}

func requestID() string { return fmt.Sprintf("quickstart-%d", time.Now().UnixNano()) }

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
