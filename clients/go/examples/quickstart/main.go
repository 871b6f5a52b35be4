// The quick start of clients/README.md: read a demo customer, list products of its country, then
// create a customer. CSP_ADDR (default 127.0.0.1:50051) and CSP_TOKEN from the environment.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
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
	got, err := api.Customers.GetCustomer(ctx, &commerce.GetCustomerRequest{CustomerId: fabrikam})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Customer.CompanyName, got.Customer.Country)
	page, err := api.Catalog.ListProducts(ctx, &commerce.ListProductsRequest{
		Filter: &commerce.CatalogFilter{Country: got.Customer.Country, Text: "e3"}, PageSize: 3})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range page.Products {
		fmt.Println(p.Id, p.Title)
	}
	created, err := api.Customers.CreateCustomer(ctx, &commerce.CreateCustomerRequest{
		RequestId:   fmt.Sprintf("quickstart-%d", time.Now().UnixNano()), // idempotency key: retry with the same one
		CompanyName: "Contoso Ltd", Country: "US", Email: "it@contoso.example.com", Domain: "contoso.example.com"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("customer", created.Customer.Id)
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
