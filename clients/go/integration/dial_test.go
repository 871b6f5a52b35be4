package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	commerce "csp-commerce/clients/go/commercev1"
)

// commercev1.Dial: a client per service, the token on every call without any metadata in the
// caller's context.
func TestDialSendsTheTokenOnEveryCall(t *testing.T) {
	api, err := commerce.Dial(srv.address, srv.token(t, "us", "sales_agent"))
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := api.Customers.GetCustomer(c, &commerce.GetCustomerRequest{CustomerId: usFabrikam})
	if err != nil {
		t.Fatal(err)
	}
	if got.Customer.CompanyName != "Fabrikam, Inc." {
		t.Fatalf("customer %v", got.Customer)
	}
	page, err := api.Catalog.ListProducts(c, &commerce.ListProductsRequest{
		Filter: &commerce.CatalogFilter{Country: "US", Text: "e3"}, PageSize: 3})
	if err != nil || len(page.Products) == 0 {
		t.Fatalf("ListProducts: %v %v", page, err)
	}
	if _, err := api.Carts.ListCarts(c, &commerce.ListCartsRequest{CustomerId: usFabrikam}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Orders.ListOrders(c, &commerce.ListOrdersRequest{CustomerId: usFabrikam}); err != nil {
		t.Fatal(err)
	}

	// The same calls with another token: it is the token that Dial sends that authenticates.
	wrong, err := commerce.Dial(srv.address, "not-a-jwt")
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	_, err = wrong.Customers.GetCustomer(c, &commerce.GetCustomerRequest{CustomerId: usFabrikam})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("want UNAUTHENTICATED with a wrong token, got %v", err)
	}
}

// Plaintext only to loopback: elsewhere the token would cross the network in clear.
func TestDialRefusesPlaintextBeyondLoopback(t *testing.T) {
	for _, addr := range []string{"192.0.2.10:50051", "api.example.com:443"} {
		if _, err := commerce.Dial(addr, "token"); err == nil || !strings.Contains(err.Error(), "DialTLS") {
			t.Errorf("Dial(%q): want a refusal naming DialTLS, got %v", addr, err)
		}
	}
	for _, addr := range []string{"localhost:50051", "[::1]:50051", "127.0.0.2:50051"} {
		api, err := commerce.Dial(addr, "token")
		if err != nil {
			t.Errorf("Dial(%q): %v", addr, err)
			continue
		}
		api.Close()
	}
}

// BearerToken without allowPlaintext: grpc-go refuses a plaintext connection.
func TestBearerTokenRequiresTLSUnlessAllowed(t *testing.T) {
	conn, err := grpc.Dial(srv.address, grpc.WithInsecure(), grpc.WithPerRPCCredentials(commerce.BearerToken("token", false)))
	if err == nil {
		conn.Close()
		t.Fatal("grpc.Dial accepted a token that requires TLS over plaintext")
	}
}
