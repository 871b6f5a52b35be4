package integration

import (
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	commerce "csp-commerce/clients/go/commercev1"
)

// details decodes the google.rpc details of an error (grpc-status-details-bin); importing
// errdetails registers their types, so st.Details() returns them as typed messages.
func details(t *testing.T, err error, code codes.Code) (*errdetails.BadRequest, *errdetails.PreconditionFailure, *errdetails.ErrorInfo) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != code {
		t.Fatalf("expected %v, got %v", code, err)
	}
	var (
		badRequest   *errdetails.BadRequest
		precondition *errdetails.PreconditionFailure
		info         *errdetails.ErrorInfo
	)
	for _, d := range st.Details() {
		switch v := d.(type) {
		case *errdetails.BadRequest:
			badRequest = v
		case *errdetails.PreconditionFailure:
			precondition = v
		case *errdetails.ErrorInfo:
			info = v
		case error:
			t.Fatalf("undecodable detail: %v", v)
		}
	}
	return badRequest, precondition, info
}

func TestANegativePageSizeIsABadRequestNamingTheField(t *testing.T) {
	_, err := catalogClient().ListProducts(ctx(t), &commerce.ListProductsRequest{PageSize: -1})
	badRequest, _, info := details(t, err, codes.InvalidArgument)
	if badRequest == nil || len(badRequest.FieldViolations) != 1 ||
		badRequest.FieldViolations[0].Field != "page_size" || badRequest.FieldViolations[0].Description == "" {
		t.Fatalf("unexpected BadRequest %v", badRequest)
	}
	if info == nil || info.Domain != "csp-commerce" || info.Reason == "" {
		t.Fatalf("unexpected ErrorInfo %v", info)
	}
}

func TestAnAddonWithoutItsBaseFailsCheckoutWithAPreconditionFailure(t *testing.T) {
	customer := newCustomer(t, "Go Addon Alone Inc") // owns no base
	// Intune Extra Storage (CFQ7TTC0O3H3:0001) is an add-on of Intune (CFQ7TTC0RDXR:0001).
	addon := catalogItem(t, "CFQ7TTC0O3H3", "0001", "US", commerce.Segment_SEGMENT_COMMERCIAL)
	created, err := cartClient().CreateCart(ctx(t), &commerce.CreateCartRequest{
		RequestId:  requestID(t),
		CustomerId: customer.Id,
		Lines: []*commerce.CartLineInput{{
			CatalogItemId: addon.CatalogItemId,
			Quantity:      1,
			Term:          commerce.TermDuration_TERM_DURATION_P1M,
			BillingCycle:  commerce.BillingCycle_BILLING_CYCLE_MONTHLY,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cart := created.Cart
	if problems := cart.Lines[0].Problems; len(problems) != 1 || problems[0].Code != "ADDON_BASE_MISSING" {
		t.Fatalf("unexpected line problems %v", problems)
	}
	_, err = cartClient().Checkout(ctx(t), &commerce.CheckoutRequest{RequestId: requestID(t), CartId: cart.Id, Etag: cart.Etag})
	_, precondition, _ := details(t, err, codes.FailedPrecondition)
	if precondition == nil || len(precondition.Violations) != 1 {
		t.Fatalf("unexpected PreconditionFailure %v", precondition)
	}
	v := precondition.Violations[0]
	if v.Type != "ADDON_BASE_MISSING" || v.Subject != fmt.Sprintf("lines/%s", cart.Lines[0].Id) || v.Description == "" {
		t.Fatalf("unexpected violation %v", v)
	}
}
