// The quick start of clients/README.md: list products, then create a customer.
// CSP_ADDR (default 127.0.0.1:50051) and CSP_TOKEN from the environment.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	commerce "csp-commerce/clients/go/commercev1"
)

func main() {
	addr := os.Getenv("CSP_ADDR")
	if addr == "" {
		addr = "127.0.0.1:50051"
	}
	conn, err := grpc.Dial(addr, grpc.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+os.Getenv("CSP_TOKEN")) // on every call
	page, err := commerce.NewCatalogServiceClient(conn).ListProducts(ctx, &commerce.ListProductsRequest{
		Filter: &commerce.CatalogFilter{Country: "US", Text: "e3"}, PageSize: 3})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range page.Products {
		fmt.Println(p.Id, p.Title)
	}
	created, err := commerce.NewCustomerServiceClient(conn).CreateCustomer(ctx, &commerce.CreateCustomerRequest{
		RequestId:   fmt.Sprintf("quickstart-%d", time.Now().UnixNano()), // idempotency key: retry with the same one
		CompanyName: "Contoso Ltd", Country: "US", Email: "it@contoso.example.com", Domain: "contoso.example.com"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("customer", created.Customer.Id)
}
