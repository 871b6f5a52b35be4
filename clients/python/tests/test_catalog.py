"""Catalog: filtering, paging with next_page_token, and CheckPurchasability's reasons."""

from __future__ import annotations

import grpc
import pytest

from csp.commerce.money import to_decimal
from csp.commerce.v1 import catalog_pb2, common_pb2
from support import US_FABRIKAM, US_NORTHWIND_FOUNDATION, catalog_item


def test_list_products_follows_next_page_token(catalog, auth):
    request = catalog_pb2.ListProductsRequest(
        filter=catalog_pb2.CatalogFilter(country="US", text="e3"), page_size=2
    )
    ids: list[str] = []
    pages = 0
    total = None
    while True:
        page = catalog.ListProducts(request, metadata=auth)
        pages += 1
        assert len(page.products) <= 2
        ids += [p.id for p in page.products]
        total = page.total_size
        if not page.next_page_token:
            break
        request.page_token = page.next_page_token
    assert pages > 1, "the filter should need several pages of 2"
    assert len(ids) == total == len(set(ids)), ids
    assert "CFQ7TTC02ROY" in ids  # Office 365 E3


def test_sku_view_filters_by_country_and_type(catalog, auth):
    page = catalog.ListProducts(
        catalog_pb2.ListProductsRequest(
            filter=catalog_pb2.CatalogFilter(
                country="DE",
                product_type=common_pb2.PRODUCT_TYPE_ONLINE_SERVICES,
                text="office 365",
            ),
            view=catalog_pb2.CATALOG_VIEW_SKU_WITH_COUNTRIES,
            page_size=500,
        ),
        metadata=auth,
    )
    assert page.skus and not page.products
    assert page.total_size == len(page.skus)
    for sku in page.skus:
        assert "DE" in sku.countries, sku
        assert sku.product_type == common_pb2.PRODUCT_TYPE_ONLINE_SERVICES


def test_check_purchasability_says_why_not(catalog, auth):
    # Office 365 E3 (Nonprofit Staff Pricing): nonprofit segment only.
    nonprofit = catalog_item(
        catalog, auth, "CFQ7TTC02ROY", "0002", "US", common_pb2.SEGMENT_NONPROFIT
    )
    request = catalog_pb2.CheckPurchasabilityRequest(
        customer_id=US_FABRIKAM,  # no nonprofit qualification
        catalog_item_id=nonprofit.catalog_item_id,
        quantity=5,
        term=common_pb2.TERM_DURATION_P1Y,
        billing_cycle=common_pb2.BILLING_CYCLE_ANNUAL,
    )
    reply = catalog.CheckPurchasability(request, metadata=auth)
    assert not reply.purchasable
    codes = [p.code for p in reply.problems]
    assert common_pb2.PROBLEM_CODE_SEGMENT_NOT_ALLOWED in codes, reply
    assert all(p.message for p in reply.problems)

    # The same item for an approved nonprofit is fine, and priced.
    request.customer_id = US_NORTHWIND_FOUNDATION
    reply = catalog.CheckPurchasability(request, metadata=auth)
    assert reply.purchasable, reply.problems
    assert reply.term_price.currency_code == "USD"
    assert to_decimal(reply.term_price) == 5 * to_decimal(reply.unit_term_price) > 0
    # P1Y billed annually: one charge, the whole term.
    assert reply.billing_periods == 1
    assert reply.billing_period_charge == reply.term_price


def test_a_call_without_a_token_is_unauthenticated(catalog):
    with pytest.raises(grpc.RpcError) as raised:
        catalog.ListProducts(catalog_pb2.ListProductsRequest(page_size=1))
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
