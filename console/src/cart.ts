// The cart: lines with editable quantities, removal, the review (every line and cart problem),
// totals per currency, Buy -> the order number. Every write carries the etag of the cart shown:
// a cart changed elsewhere is refused, explained, and reloaded on request.
import { type Cart, type CartLine } from "../../clients/typescript/src/gen/csp/commerce/v1/cart_pb.js";
import { requestId } from "./api.js";
import { type App, errorBox, needCustomer, section } from "./app.js";
import { currentCart } from "./cartlines.js";
import { fill, h } from "./dom.js";
import { cycle, money, problemList, term } from "./format.js";

/** What the line carries for provisioning, in words ("" when nothing). */
function provisioned(line: CartLine): string {
  const p = line.provisioningContext;
  if (!p) return "";
  const parts = [
    p.scope && `scope ${p.scope}`,
    p.azureSubscriptionId && `Azure subscription ${p.azureSubscriptionId}`,
    p.parentSubscriptionId && `on base subscription ${p.parentSubscriptionId.slice(0, 8)}…`,
  ].filter(Boolean);
  return parts.length ? ` · ${parts.join(", ")}` : "";
}

export function cartScreen(app: App, main: HTMLElement): void {
  const customer = app.customer;
  if (!customer) return void main.replaceChildren(section("Cart", needCustomer()));
  const body = h("div");
  const message = h("div", { "aria-live": "polite" });
  main.replaceChildren(section(`Cart of ${customer.companyName}`, message, body));

  const load = async () => {
    body.setAttribute("aria-busy", "true");
    try {
      const cart = await currentCart(app, customer.id);
      fill(message);
      fill(body, cart ? cartView(cart) : h("p", {}, "No cart yet: ", h("a", { href: "#/products" }, "add products"), "."));
    } catch (error) {
      fill(message, errorBox(app, error, () => void load()));
    } finally {
      body.removeAttribute("aria-busy");
    }
  };

  /** A write at the etag of the cart shown; its answer (the cart as it is now) is shown. */
  const write = async (what: string, call: () => Promise<Cart | undefined>) => {
    try {
      const cart = await call();
      if (cart) fill(body, cartView(cart));
      fill(message, what && h("p", { class: "ok" }, what));
      if (what) app.say(what);
    } catch (error) {
      fill(message, errorBox(app, error, () => void load()));
    }
  };

  const lineRow = (cart: Cart, line: CartLine): HTMLElement => {
    const label = `${line.skuTitle}, ${term(line.term)}, billed ${cycle(line.billingCycle).toLowerCase()}`;
    const quantity = h("input", { type: "number", name: "quantity", min: 1, value: String(line.quantity), "aria-label": `Quantity of ${label}` });
    const update = () =>
      write(`Quantity of ${line.skuTitle} set to ${quantity.value}.`, async () => {
        const reply = await app.client.carts.updateCartLine({
          requestId: requestId(),
          cartId: cart.id,
          lineId: line.id,
          etag: cart.etag,
          line: {
            catalogItemId: line.catalogItemId,
            quantity: Number(quantity.value),
            term: line.term,
            billingCycle: line.billingCycle,
            provisioningContext: line.provisioningContext,
          },
        });
        return reply.cart;
      });
    const remove = () =>
      write(`${line.skuTitle} removed.`, async () => {
        const reply = await app.client.carts.removeCartLine({ requestId: requestId(), cartId: cart.id, lineId: line.id, etag: cart.etag });
        return reply.cart;
      });
    quantity.addEventListener("keydown", (e) => {
      if (e.key === "Enter") void update();
    });
    return h(
      "li",
      { class: `line${line.problems.length ? " has-problems" : ""}`, "data-item": line.catalogItemId },
      h("div", { class: "title" }, h("strong", {}, line.skuTitle), " ", h("span", { class: "meta" }, line.productTitle), " ", h("code", {}, line.catalogItemId)),
      h(
        "div",
        { class: "meta" },
        `${term(line.term)}, billed ${cycle(line.billingCycle).toLowerCase()} · unit ${money(line.unitTermPrice)} · line ${money(line.termPrice)}`,
        line.billingPeriods > 1 && ` · ${money(line.billingPeriodCharge)} × ${line.billingPeriods}`,
        provisioned(line),
      ),
      h("label", {}, "Quantity ", quantity),
      h("button", { type: "button", onclick: update, "aria-label": `Update the quantity of ${label}` }, "Update"),
      h("button", { type: "button", onclick: remove, "aria-label": `Remove ${label}` }, "Remove"),
      problemList(line.problems, `Problems of ${line.skuTitle}`),
    );
  };

  const cartView = (cart: Cart): HTMLElement => {
    app.setCartId(customer.id, cart.id);
    const blocked = cart.problems.length > 0 || cart.lines.some((l) => l.problems.length > 0);
    const buy = () =>
      write("", async () => {
        const { order } = await app.client.carts.checkout({ requestId: requestId(), cartId: cart.id, etag: cart.etag });
        app.setCartId(customer.id, null);
        if (order) {
          fill(
            body,
            h(
              "div",
              { class: "ordered", role: "status" },
              h("p", {}, "Ordered: order number ", h("strong", { class: "order-number" }, order.orderNumber), ` for ${money(order.total)}.`),
              h("a", { href: `#/orders/${order.id}` }, "See the order"),
            ),
          );
          app.say(`Order ${order.orderNumber} placed.`);
        }
        return undefined;
      });
    return h(
      "div",
      { class: "cart", "data-etag": cart.etag },
      cart.lines.length === 0 ? h("p", {}, "The cart is empty.") : h("ul", { class: "rows", "aria-label": "Cart lines" }, ...cart.lines.map((l) => lineRow(cart, l))),
      problemList(cart.problems, "Problems of the cart"),
      h(
        "dl",
        { class: "totals" },
        h("dt", {}, "Total for the terms"),
        h("dd", {}, cart.totals.length ? cart.totals.map(money).join(" + ") : "—"),
        h("dt", {}, "First charge"),
        h("dd", {}, cart.firstChargeTotals.length ? cart.firstChargeTotals.map(money).join(" + ") : "—"),
      ),
      blocked && h("p", { class: "refused" }, "Solve the problems above before buying."),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", onclick: () => void load() }, "Reload"),
        h("button", { type: "button", class: "primary", onclick: buy, disabled: cart.lines.length === 0 }, "Buy"),
      ),
    );
  };

  void load();
}
