package integration

import (
	"testing"

	commerce "csp-commerce/clients/go/commercev1"
)

// Customers: create (idempotent per request_id) and read back.
func TestCreateCustomerIsIdempotentPerRequestID(t *testing.T) {
	request := &commerce.CreateCustomerRequest{
		RequestId:   requestID(t),
		CompanyName: "Go Client Test Ltd",
		Country:     "US",
		Email:       "it@go-client.example.com",
		Domain:      "go-client.example.com",
	}
	created, err := customerClient().CreateCustomer(ctx(t), request)
	if err != nil {
		t.Fatal(err)
	}
	customer := created.Customer
	if customer.Id == "" || customer.Etag == "" || customer.CompanyName != "Go Client Test Ltd" {
		t.Fatalf("unexpected customer %v", customer)
	}
	retried, err := customerClient().CreateCustomer(ctx(t), request)
	if err != nil {
		t.Fatal(err)
	}
	if retried.Customer.Id != customer.Id {
		t.Fatalf("a retry with the same request_id made another customer: %s != %s", retried.Customer.Id, customer.Id)
	}
	read, err := customerClient().GetCustomer(ctx(t), &commerce.GetCustomerRequest{CustomerId: customer.Id})
	if err != nil {
		t.Fatal(err)
	}
	if read.Customer.Domain != "go-client.example.com" || read.Customer.Agreement != nil {
		t.Fatalf("unexpected customer %v", read.Customer)
	}
	count, token := 0, ""
	for {
		page, err := customerClient().ListCustomers(ctx(t), &commerce.ListCustomersRequest{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Customers {
			if c.Id == customer.Id {
				count++
			}
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if count != 1 {
		t.Fatalf("the customer is listed %d times", count)
	}
}
