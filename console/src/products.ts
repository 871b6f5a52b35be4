// Add products: the seed's filters over the catalog (product or SKU view) or over what the open
// customer may buy (ListOffers), paged; each SKU's buy options, and for any of them whether it
// can be bought and, if not, every failed rule (CheckPurchasability).
import {
  BillingType,
  ProductType,
  Segment,
} from "../../clients/typescript/src/gen/csp/commerce/v1/common_pb.js";
import {
  CatalogView,
  type Offer,
  type Product,
  PublisherFilter,
  type Sku,
  TrialFilter,
} from "../../clients/typescript/src/gen/csp/commerce/v1/catalog_pb.js";
import { type App, disclosure, guarded, pager, section } from "./app.js";
import { buyOptions, offerRow } from "./buying.js";
import { field, fill, formValue, h, select } from "./dom.js";
import { billingType, enumOptions, problemList, productType, segment } from "./format.js";

const PAGE_SIZE = 20;
const ANY: [string, string] = ["", "Any"];
const CATEGORIES = ["Enterprise", "SmallBusiness", "Nonprofit", "Trial", "Addon", "Education", "Government"];

/** The filters ListOffers and ListProducts share. */
interface Filters {
  text: string;
  productType: number;
  segment: number;
  publisher: number;
  billingType: number;
  category: string;
  trial: number;
}

interface Query {
  filter: Filters;
  view: CatalogView;
  offersOnly: boolean;
  inCountry: boolean;
}

function filterForm(app: App, run: (q: Query) => void): HTMLFormElement {
  const c = app.customer;
  const form: HTMLFormElement = h(
    "form",
    {
      class: "filters",
      role: "search",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const n = (name: string) => Number(formValue(form, name) || 0);
        run({
          filter: {
            text: formValue(form, "text"),
            productType: n("productType"),
            segment: n("segment"),
            publisher: n("publisher"),
            billingType: n("billingType"),
            category: formValue(form, "category"),
            trial: n("trial"),
          },
          view: n("view") as CatalogView,
          offersOnly: new FormData(form).has("offersOnly"),
          inCountry: new FormData(form).has("inCountry"),
        });
      },
    },
    field("Search", h("input", { type: "search", name: "text", autocomplete: "off" })),
    field("Product type", select("productType", [ANY, ...enumOptions(ProductType, productType)])),
    field("Segment", select("segment", [ANY, ...enumOptions(Segment, segment)])),
    field(
      "Publisher",
      select("publisher", [ANY, [String(PublisherFilter.MICROSOFT), "Microsoft"], [String(PublisherFilter.THIRD_PARTY), "Partner (third party)"]]),
    ),
    field("Billing type", select("billingType", [ANY, ...enumOptions(BillingType, billingType)])),
    field("Category", select("category", [ANY, ...CATEGORIES.map((k): [string, string] => [k, k.replace(/([a-z])([A-Z])/g, "$1 $2")])])),
    field(
      "Trial",
      select("trial", [ANY, [String(TrialFilter.ONLY_TRIALS), "Only trials"], [String(TrialFilter.NO_TRIALS), "No trials"]]),
    ),
    field("View", select("view", [[String(CatalogView.PRODUCT), "Products"], [String(CatalogView.SKU), "SKUs"]])),
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "offersOnly", disabled: !c }),
      c ? ` Only what ${c.companyName} may buy` : " Only what the customer may buy (open a customer first)",
    ),
    c && h("label", { class: "check" }, h("input", { type: "checkbox", name: "inCountry", checked: true }), ` Only sold in ${c.country}`),
    h("button", { type: "submit" }, "Search"),
  );
  return form;
}

export function productsScreen(app: App, main: HTMLElement): void {
  const results = h("div", { class: "results", "aria-live": "polite" });
  // The page tokens of the pages before the one shown, for Previous.
  let tokens: string[] = [];
  let query: Query | null = null;
  const show = (pageToken: string) => {
    const q = query;
    if (!q) return;
    void guarded(app, results, async () => {
      const { rows, next, total, customerProblems } = await fetchPage(app, q, pageToken);
      const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
      const nav = pager(tokens, pageToken, next, show, `Page ${tokens.length + 1} of ${pages} (${total} matching)`);
      fill(results, customerProblems, rows.length === 0 ? h("p", {}, "Nothing matches these filters.") : h("ul", { class: "rows" }, ...rows), nav);
    });
  };
  const form = filterForm(app, (q) => {
    query = q;
    tokens = [];
    show("");
  });
  main.replaceChildren(
    section(app.customer ? `Add products for ${app.customer.companyName}` : "Add products", form),
    section("Results", results),
  );
}

interface Page {
  rows: HTMLElement[];
  next: string;
  total: number;
  customerProblems: HTMLElement | null;
}

async function fetchPage(app: App, q: Query, pageToken: string): Promise<Page> {
  const customer = app.customer;
  if (q.offersOnly && customer) {
    const reply = await app.client.catalog.listOffers({
      customerId: customer.id,
      filter: q.filter,
      pageSize: PAGE_SIZE,
      pageToken,
    });
    return {
      rows: reply.offers.map((o: Offer) => offerRow(app, o)),
      next: reply.nextPageToken,
      total: reply.totalSize,
      customerProblems: problemList(reply.customerProblems, "What blocks every offer until solved"),
    };
  }
  const reply = await app.client.catalog.listProducts({
    filter: { ...q.filter, country: q.inCountry && customer ? customer.country : "" },
    // A person's SKU view says where each SKU is sold: listings leave countries out unless asked.
    view: q.view === CatalogView.SKU ? CatalogView.SKU_WITH_COUNTRIES : q.view,
    pageSize: PAGE_SIZE,
    pageToken,
  });
  const rows = q.view === CatalogView.SKU ? reply.skus.map((s) => skuRow(app, s)) : reply.products.map((p) => productRow(app, p, q));
  return { rows, next: reply.nextPageToken, total: reply.totalSize, customerProblems: null };
}

function productRow(app: App, p: Product, q: Query): HTMLElement {
  const skus = h("div", { class: "nested" });
  const toggle = disclosure(app, "SKUs", `SKUs of ${p.title}`, skus, async () => {
    const country = q.inCountry && app.customer ? app.customer.country : "";
    const reply = await app.client.catalog.listSkus({ productId: p.id, country, segment: q.filter.segment, pageSize: 100 });
    fill(skus, h("ul", { class: "rows" }, ...reply.skus.map((s) => skuRow(app, s))));
  });
  return h(
    "li",
    { class: "row" },
    h("div", { class: "title" }, h("strong", {}, p.title), " ", h("code", {}, p.id)),
    h(
      "div",
      { class: "meta" },
      `${productType(p.productType)} · ${p.publisher} · ${billingType(p.billingType)} · ${p.category} · ${p.skuCount} SKU${p.skuCount === 1 ? "" : "s"}`,
    ),
    toggle,
    skus,
  );
}

function skuRow(app: App, s: Sku): HTMLElement {
  const options = h("div", { class: "nested" });
  const toggle = disclosure(app, "Buy options", `Buy options of ${s.title}`, options, () => buyOptions(app, s, options));
  const flags = [s.isTrial && "trial", s.isAddon && "add-on", s.seatLimit !== undefined && `at most ${s.seatLimit} seats`].filter(Boolean);
  return h(
    "li",
    { class: "row", "data-item": `${s.productId}:${s.id}` },
    h("div", { class: "title" }, h("strong", {}, s.title), " ", h("code", {}, `${s.productId}:${s.id}`)),
    h(
      "div",
      { class: "meta" },
      `${s.productTitle} · ${productType(s.productType)} · ${s.publisher} · ${s.minQuantity}–${s.maxQuantity} ${s.unitOfMeasure}`,
      flags.length > 0 && ` · ${flags.join(", ")}`,
      ` · sold in ${s.countries.length > 8 ? `${s.countries.length} countries` : s.countries.join(", ")}`,
    ),
    toggle,
    options,
  );
}
