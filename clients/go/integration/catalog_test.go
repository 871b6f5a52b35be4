package integration

import (
	"context"
	"math/big"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	commerce "csp-commerce/clients/go/commercev1"
)

// Catalog: paging with next_page_token.
func TestListProductsFollowsNextPageToken(t *testing.T) {
	request := &commerce.ListProductsRequest{
		Filter: &commerce.CatalogFilter{Country: "US", Text: "e3"}, PageSize: 2}
	var ids []string
	pages, total := 0, int32(-1)
	for {
		page, err := catalogClient().ListProducts(ctx(t), request)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Products) > 2 {
			t.Fatalf("page of %d products, asked for 2", len(page.Products))
		}
		for _, p := range page.Products {
			ids = append(ids, p.Id)
		}
		total = page.TotalSize
		if page.NextPageToken == "" {
			break
		}
		request.PageToken = page.NextPageToken
	}
	if pages < 2 {
		t.Fatalf("the filter should need several pages of 2, got %d", pages)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("product %s listed twice: %v", id, ids)
		}
		seen[id] = true
	}
	if int32(len(ids)) != total {
		t.Fatalf("listed %d products, total_size %d", len(ids), total)
	}
	if !seen["CFQ7TTC02ROY"] { // Office 365 E3
		t.Fatalf("Office 365 E3 missing from %v", ids)
	}
}

// Catalog: filters in the SKU view (with each SKU's countries, which a listing leaves out
// unless asked).
func TestSkuViewFiltersByCountryAndType(t *testing.T) {
	page, err := catalogClient().ListProducts(ctx(t), &commerce.ListProductsRequest{
		Filter: &commerce.CatalogFilter{
			Country: "DE", ProductType: commerce.ProductType_PRODUCT_TYPE_ONLINE_SERVICES, Text: "office 365"},
		View:     commerce.CatalogView_CATALOG_VIEW_SKU_WITH_COUNTRIES,
		PageSize: 500,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Skus) == 0 || len(page.Products) != 0 || int(page.TotalSize) != len(page.Skus) {
		t.Fatalf("skus %d, products %d, total %d", len(page.Skus), len(page.Products), page.TotalSize)
	}
	for _, sku := range page.Skus {
		sold := false
		for _, c := range sku.Countries {
			sold = sold || c == "DE"
		}
		if !sold || sku.ProductType != commerce.ProductType_PRODUCT_TYPE_ONLINE_SERVICES {
			t.Fatalf("%s:%s does not match the filter: %v %v", sku.ProductId, sku.Id, sku.Countries, sku.ProductType)
		}
	}
}

// CheckPurchasability: every reason why not.
func TestCheckPurchasabilitySaysWhyNot(t *testing.T) {
	// Office 365 E3 (Nonprofit Staff Pricing): nonprofit segment only.
	nonprofit := catalogItem(t, "CFQ7TTC02ROY", "0002", "US", commerce.Segment_SEGMENT_NONPROFIT)
	request := &commerce.CheckPurchasabilityRequest{
		CustomerId:    usFabrikam, // no nonprofit qualification
		CatalogItemId: nonprofit.CatalogItemId,
		Quantity:      5,
		Term:          commerce.TermDuration_TERM_DURATION_P1Y,
		BillingCycle:  commerce.BillingCycle_BILLING_CYCLE_ANNUAL,
	}
	refused, err := catalogClient().CheckPurchasability(ctx(t), request)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range refused.Problems {
		found = found || p.Code == commerce.ProblemCode_PROBLEM_CODE_SEGMENT_NOT_ALLOWED
		if p.Message == "" {
			t.Fatalf("problem %s without a message", p.Code)
		}
	}
	if refused.Purchasable || !found {
		t.Fatalf("expected SEGMENT_NOT_ALLOWED, got %v", refused.Problems)
	}

	// The same item for an approved nonprofit is fine, and priced.
	request.CustomerId = usNorthwindFoundation
	allowed, err := catalogClient().CheckPurchasability(ctx(t), request)
	if err != nil {
		t.Fatal(err)
	}
	if !allowed.Purchasable || allowed.TermPrice.GetCurrencyCode() != "USD" || allowed.TermPrice.GetUnits() <= 0 {
		t.Fatalf("expected purchasable and priced: %v", allowed)
	}
	// Five units for the whole term, exactly.
	five := new(big.Rat).Mul(big.NewRat(5, 1), commerce.MoneyRat(allowed.UnitTermPrice))
	if commerce.MoneyRat(allowed.TermPrice).Cmp(five) != 0 || allowed.BillingPeriods != 1 {
		t.Fatalf("term price %s for 5 at %s", commerce.MoneyString(allowed.TermPrice), commerce.MoneyString(allowed.UnitTermPrice))
	}
}

// A call without a token is UNAUTHENTICATED.
func TestACallWithoutATokenIsUnauthenticated(t *testing.T) {
	_, err := catalogClient().ListProducts(context.Background(), &commerce.ListProductsRequest{PageSize: 1})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("expected UNAUTHENTICATED, got %v", err)
	}
}
