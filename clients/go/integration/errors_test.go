package integration

import (
	"fmt"
	"strings"
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
	if problems := cart.Lines[0].Problems; len(problems) != 1 || problems[0].Code != commerce.ProblemCode_PROBLEM_CODE_ADDON_BASE_MISSING {
		t.Fatalf("unexpected line problems %v", problems)
	}
	if got := describe(cart.Lines[0].Problems[0]); got != "buy one of these first: CFQ7TTC0RDXR/0001" {
		t.Fatalf("describe: %q", got)
	}
	_, err = cartClient().Checkout(ctx(t), &commerce.CheckoutRequest{RequestId: requestID(t), CartId: cart.Id, Etag: cart.Etag})
	_, precondition, info := details(t, err, codes.FailedPrecondition)
	if precondition == nil || len(precondition.Violations) != 1 {
		t.Fatalf("unexpected PreconditionFailure %v", precondition)
	}
	v := precondition.Violations[0]
	if v.Type != "ADDON_BASE_MISSING" || v.Subject != fmt.Sprintf("lines/%s", cart.Lines[0].Id) || v.Description == "" {
		t.Fatalf("unexpected violation %v", v)
	}
	// The same figures as the review: the description ends with them.
	if !strings.HasSuffix(v.Description, "(prerequisites=CFQ7TTC0RDXR/0001)") {
		t.Fatalf("description without the review's figures: %q", v.Description)
	}
	// The enum's name is the string ErrorInfo.reason carries (for logs).
	want := strings.TrimPrefix(commerce.ProblemCode_PROBLEM_CODE_ADDON_BASE_MISSING.String(), "PROBLEM_CODE_")
	if info == nil || info.Reason != want {
		t.Fatalf("ErrorInfo %v, want reason %s", info, want)
	}
}

// describe is what a storefront might show: a switch on the problem code enum.
func describe(p *commerce.PurchaseProblem) string {
	switch p.Code {
	case commerce.ProblemCode_PROBLEM_CODE_ADDON_BASE_MISSING:
		bases := make([]string, 0, len(p.Prerequisites))
		for _, s := range p.Prerequisites {
			bases = append(bases, s.ProductId+"/"+s.SkuId)
		}
		return "buy one of these first: " + strings.Join(bases, ", ")
	case commerce.ProblemCode_PROBLEM_CODE_SEAT_LIMIT_EXCEEDED:
		return "only " + p.Figures["seats_available"] + " seats left"
	case commerce.ProblemCode_PROBLEM_CODE_UNSPECIFIED:
		return "unknown problem: " + p.Message
	default:
		return p.Message
	}
}

func TestAStaleEtagIsAbortedWithTheCurrentEtag(t *testing.T) {
	customer := newCustomer(t, "Go Stale Etag Inc")
	item := catalogItem(t, "CFQ7TTC0RDXR", "0001", "US", commerce.Segment_SEGMENT_COMMERCIAL)
	created, err := cartClient().CreateCart(ctx(t), &commerce.CreateCartRequest{RequestId: requestID(t), CustomerId: customer.Id})
	if err != nil {
		t.Fatal(err)
	}
	cart := created.Cart
	added, err := cartClient().AddCartLine(ctx(t), &commerce.AddCartLineRequest{
		RequestId: requestID(t), CartId: cart.Id, Etag: cart.Etag,
		Line: &commerce.CartLineInput{
			CatalogItemId: item.CatalogItemId,
			Quantity:      1,
			Term:          commerce.TermDuration_TERM_DURATION_P1Y,
			BillingCycle:  commerce.BillingCycle_BILLING_CYCLE_MONTHLY,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	changed := added.Cart
	stale := &commerce.RemoveCartLineRequest{RequestId: requestID(t), CartId: cart.Id, LineId: changed.Lines[0].Id, Etag: cart.Etag}
	_, err = cartClient().RemoveCartLine(ctx(t), stale)
	_, _, info := details(t, err, codes.Aborted)
	if info == nil || info.Reason != "ETAG_MISMATCH" || info.Metadata["current_etag"] != changed.Etag {
		t.Fatalf("ErrorInfo %v, want ETAG_MISMATCH with current_etag %s", info, changed.Etag)
	}
	// Retry at once with the etag the error carries: no read needed.
	stale.RequestId, stale.Etag = requestID(t), info.Metadata["current_etag"]
	removed, err := cartClient().RemoveCartLine(ctx(t), stale)
	if err != nil || len(removed.Cart.Lines) != 0 {
		t.Fatalf("retry: %v %v", removed, err)
	}
}
