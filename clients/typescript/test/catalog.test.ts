// Catalog: filtering, paging with nextPageToken, and CheckPurchasability's reasons.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  BillingCycle,
  CatalogService,
  CatalogView,
  formatMoney,
  ProblemCode,
  ProductType,
  Segment,
  TermDuration,
} from "@csp-commerce/client";

import { startServer, type TestServer } from "./server.js";
import { catalogItem, US_FABRIKAM, US_NORTHWIND_FOUNDATION } from "./support.js";

describe("catalog", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.stop());

  it("lists products page by page, following nextPageToken", async () => {
    const { catalog } = server.clients();
    const ids: string[] = [];
    let pageToken = "";
    let pages = 0;
    let total = -1;
    do {
      const page = await catalog.listProducts({ filter: { country: "US", text: "e3" }, pageSize: 2, pageToken });
      pages++;
      assert.ok(page.products.length <= 2);
      ids.push(...page.products.map((p) => p.id));
      total = page.totalSize;
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.ok(pages > 1, "the filter should need several pages of 2");
    assert.equal(ids.length, total);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.includes("CFQ7TTC02ROY")); // Office 365 E3
  });

  it("filters SKUs by country and product type in the SKU view", async () => {
    const { catalog } = server.clients();
    const page = await catalog.listProducts({
      filter: { country: "DE", productType: ProductType.ONLINE_SERVICES, text: "office 365" },
      view: CatalogView.SKU_WITH_COUNTRIES,
      pageSize: 500,
    });
    assert.ok(page.skus.length > 0);
    assert.equal(page.products.length, 0);
    assert.equal(page.totalSize, page.skus.length);
    for (const sku of page.skus) {
      assert.ok(sku.countries.includes("DE"), `${sku.productId}:${sku.id}`);
      assert.equal(sku.productType, ProductType.ONLINE_SERVICES);
    }
  });

  it("says why a customer may not buy an item (CheckPurchasability)", async () => {
    const { catalog } = server.clients();
    // Office 365 E3 (Nonprofit Staff Pricing): nonprofit segment only.
    const nonprofit = await catalogItem(catalog, "CFQ7TTC02ROY", "0002", "US", Segment.NONPROFIT);
    const request = {
      customerId: US_FABRIKAM, // no nonprofit qualification
      catalogItemId: nonprofit.catalogItemId,
      quantity: 5,
      term: TermDuration.P1Y,
      billingCycle: BillingCycle.ANNUAL,
    };
    const refused = await catalog.checkPurchasability(request);
    assert.equal(refused.purchasable, false);
    assert.ok(refused.problems.map((p) => p.code).includes(ProblemCode.SEGMENT_NOT_ALLOWED), String(refused.problems.map((p) => p.code)));
    assert.ok(refused.problems.every((p) => p.message.length > 0));

    // The same item for an approved nonprofit is fine, and priced.
    const allowed = await catalog.checkPurchasability({ ...request, customerId: US_NORTHWIND_FOUNDATION });
    assert.equal(allowed.purchasable, true, JSON.stringify(allowed.problems));
    assert.equal(allowed.termPrice?.currencyCode, "USD");
    assert.ok((allowed.termPrice?.units ?? 0n) > 0n);
    // P1Y billed annually: one charge, the whole term.
    assert.equal(allowed.billingPeriods, 1);
    assert.equal(formatMoney(allowed.billingPeriodCharge!), formatMoney(allowed.termPrice!));
  });

  it("refuses a call without a token (UNAUTHENTICATED)", async () => {
    const catalog = createClient(CatalogService, server.transport(null));
    await assert.rejects(catalog.listProducts({ pageSize: 1 }), (e: unknown) => {
      assert.equal(ConnectError.from(e).code, Code.Unauthenticated);
      return true;
    });
  });
});
