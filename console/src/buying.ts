// One buyable thing (a catalog item at a term and billing cycle): a quantity, "Check" (may the
// open customer buy it, and if not every failed rule with its figures) and "Add to cart".
import type { Availability, Offer, Sku } from "../../clients/typescript/src/gen/csp/commerce/v1/catalog_pb.js";
import type { BillingCycle, TermDuration } from "../../clients/typescript/src/gen/csp/commerce/v1/common_pb.js";
import type { Money } from "../../clients/typescript/src/gen/google/type/money_pb.js";
import { type App, guarded } from "./app.js";
import { addToCart } from "./cartlines.js";
import { fill, h, uid } from "./dom.js";
import { cycle, money, problemList, segment, term } from "./format.js";
import { type Needs, provisioningFields } from "./provisioning.js";

interface Buyable extends Needs {
  catalogItemId: string;
  term: TermDuration;
  billingCycle: BillingCycle;
  termPrice?: Money;
  periodCharge?: Money;
  periods: number;
  min: number;
  max: number;
}

/** A row to check and add one buyable thing. */
function buyRow(app: App, b: Buyable, heading?: HTMLElement): HTMLLIElement {
  const outcome = h("div", { class: "outcome", "aria-live": "polite" });
  const what = `${b.title}, ${term(b.term)}, billed ${cycle(b.billingCycle).toLowerCase()}`;
  const quantity = h("input", {
    id: uid("qty"),
    type: "number",
    name: "quantity",
    min: b.min || 1,
    max: b.max || undefined,
    value: String(b.min || 1),
    "aria-label": `Quantity of ${what}`,
  });
  const customer = app.customer;
  const provisioning = provisioningFields(app, b);
  const check = async () => {
    if (!customer) return;
    await guarded(app, outcome, async () => {
      const reply = await app.client.catalog.checkPurchasability({
        customerId: customer.id,
        catalogItemId: b.catalogItemId,
        quantity: Number(quantity.value),
        term: b.term,
        billingCycle: b.billingCycle,
      });
      fill(
        outcome,
        reply.purchasable
          ? h(
              "p",
              { class: "ok" },
              `${customer.companyName} can buy this: ${money(reply.termPrice)} for the term`,
              reply.billingPeriods > 1 && `, ${money(reply.billingPeriodCharge)} × ${reply.billingPeriods}`,
              ".",
            )
          : [
              h("p", { class: "refused" }, `${customer.companyName} cannot buy this, because:`),
              problemList(reply.problems, `Why ${b.title} cannot be bought`),
            ],
      );
    });
  };
  const add = async () => {
    if (!customer) return;
    await guarded(app, outcome, async () => {
      const cart = await addToCart(app, customer.id, {
        catalogItemId: b.catalogItemId,
        quantity: Number(quantity.value),
        term: b.term,
        billingCycle: b.billingCycle,
        provisioningContext: provisioning.context(),
      });
      fill(outcome, h("p", { class: "ok" }, `Added to the cart (${cart.lines.length} line${cart.lines.length === 1 ? "" : "s"}). `, h("a", { href: "#/cart" }, "Review the cart")));
      app.say(`Added ${b.title} to the cart.`);
    });
  };
  return h(
    "li",
    { class: "buy", "data-item": b.catalogItemId },
    heading,
    h(
      "span",
      { class: "price" },
      `${term(b.term)}, billed ${cycle(b.billingCycle).toLowerCase()}: ${money(b.termPrice)}`,
      b.periods > 1 && ` (${money(b.periodCharge)} × ${b.periods})`,
    ),
    h("label", { for: quantity.id }, "Quantity"),
    quantity,
    provisioning.controls,
    h("button", { type: "button", disabled: !customer, onclick: check, "aria-label": `Check ${what}` }, "Check"),
    h("button", { type: "button", disabled: !customer, onclick: add, "aria-label": `Add ${what} to the cart` }, "Add to cart"),
    outcome,
  );
}

/** The SKU's availabilities (in the open customer's country when it has any), each term a row. */
export async function buyOptions(app: App, s: Sku, target: HTMLElement): Promise<void> {
  const country = app.customer?.country ?? "";
  let { availabilities } = await app.client.catalog.listAvailabilities({ productId: s.productId, skuId: s.id, country, pageSize: 20 });
  let note: HTMLElement | null = app.customer ? null : h("p", { class: "hint" }, "Open a customer to check or buy.");
  if (availabilities.length === 0 && country) {
    ({ availabilities } = await app.client.catalog.listAvailabilities({ productId: s.productId, skuId: s.id, pageSize: 20 }));
    note = h("p", { class: "hint" }, `Not sold in ${country}; its price lists elsewhere:`);
  }
  const rows = availabilities.flatMap((a: Availability) =>
    a.terms.map((t, i) =>
      buyRow(
        app,
        {
          catalogItemId: a.catalogItemId,
          title: s.title,
          term: t.term,
          billingCycle: t.billingCycle,
          termPrice: t.termPrice,
          periodCharge: t.billingPeriodCharge,
          periods: t.billingPeriods,
          min: s.minQuantity,
          max: s.maxQuantity,
          variables: s.provisioningVariables,
          isAddon: s.isAddon,
          prerequisites: s.prerequisites,
        },
        i === 0 ? h("div", { class: "availability" }, `${a.country} · ${segment(a.segment)} · ${a.currencyCode} · price list ${a.priceListMonth}`) : undefined,
      ),
    ),
  );
  fill(target, note, rows.length === 0 ? h("p", {}, "No price list sells this SKU.") : h("ul", { class: "rows" }, ...rows));
}

/** One offer of ListOffers: what the customer may buy, ready for a cart line. */
export function offerRow(app: App, o: Offer): HTMLElement {
  return h(
    "li",
    { class: "row", "data-item": o.catalogItemId },
    h("div", { class: "title" }, h("strong", {}, o.skuTitle), " ", h("code", {}, `${o.productId}:${o.skuId}`)),
    h("div", { class: "meta" }, `${o.productTitle} · ${segment(o.segment)} · ${o.country}${o.isTrial ? " · trial" : ""}${o.isAddon ? " · add-on" : ""}`),
    h(
      "ul",
      { class: "rows" },
      buyRow(app, {
        catalogItemId: o.catalogItemId,
        title: o.skuTitle,
        term: o.term,
        billingCycle: o.billingCycle,
        termPrice: o.termPrice,
        periodCharge: o.billingPeriodCharge,
        periods: o.billingPeriods,
        min: o.minQuantity,
        max: o.maxQuantity,
        variables: o.provisioningVariables,
        isAddon: o.isAddon,
        prerequisites: [],
      }),
    ),
  );
}
