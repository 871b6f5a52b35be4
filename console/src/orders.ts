// Orders: the open customer's history (newest first), one order's lines, and cancelling it
// inside its window (the server says why not after it).
import { type Order, OrderStatus } from "../../clients/typescript/src/gen/csp/commerce/v1/order_pb.js";
import { requestId } from "./api.js";
import { type App, errorBox, guarded, needCustomer, pager, section } from "./app.js";
import { fill, h } from "./dom.js";
import { cycle, money, term, when } from "./format.js";

const status = (s: OrderStatus) => OrderStatus[s].toLowerCase();

export function ordersScreen(app: App, main: HTMLElement): void {
  const customer = app.customer;
  if (!customer) return void main.replaceChildren(section("Orders", needCustomer()));
  const list = h("div", { "aria-live": "polite" });
  let tokens: string[] = [];
  const show = (pageToken: string) =>
    guarded(app, list, async () => {
      const reply = await app.client.orders.listOrders({ customerId: customer.id, pageSize: 25, pageToken });
      fill(
        list,
        reply.orders.length === 0
          ? h("p", {}, "No orders yet.")
          : h(
              "table",
              { "aria-label": "Order history" },
              h("thead", {}, h("tr", {}, h("th", {}, "Order"), h("th", {}, "Placed"), h("th", {}, "Status"), h("th", {}, "Total"))),
              h(
                "tbody",
                {},
                ...reply.orders.map((o) =>
                  h(
                    "tr",
                    { "data-order": o.orderNumber },
                    h("td", {}, h("a", { href: `#/orders/${o.id}` }, o.orderNumber)),
                    h("td", {}, when(o.createTime)),
                    h("td", {}, status(o.status)),
                    h("td", {}, money(o.total)),
                  ),
                ),
              ),
            ),
        pager(tokens, pageToken, reply.nextPageToken, (token) => void show(token)),
      );
    });
  main.replaceChildren(section(`Orders of ${customer.companyName}`, list));
  tokens = [];
  void show("");
}

export function orderScreen(app: App, main: HTMLElement, id: string): void {
  const body = h("div");
  const message = h("div", { "aria-live": "polite" });
  main.replaceChildren(message, body);
  const load = () =>
    guarded(app, body, async () => {
      const { order } = await app.client.orders.getOrder({ orderId: id });
      if (order) fill(body, orderView(order));
    });
  const orderView = (o: Order): HTMLElement => {
    const cancel = async () => {
      try {
        const { order } = await app.client.orders.cancelOrder({ requestId: requestId(), orderId: o.id, etag: o.etag });
        if (order) fill(body, orderView(order));
        fill(message, h("p", { class: "ok" }, `Order ${o.orderNumber} cancelled: ${money(order?.refund)} refunded.`));
      } catch (error) {
        fill(message, errorBox(app, error, () => void load()));
      }
    };
    return section(
      `Order ${o.orderNumber}`,
      h(
        "dl",
        {},
        h("dt", {}, "Status"), h("dd", { class: "order-status" }, status(o.status)),
        h("dt", {}, "Placed"), h("dd", {}, when(o.createTime)),
        h("dt", {}, "Total"), h("dd", {}, money(o.total)),
        h("dt", {}, "First charge"), h("dd", {}, money(o.firstChargeTotal)),
        o.cancelTime && [h("dt", {}, "Cancelled"), h("dd", {}, when(o.cancelTime))],
        o.refund && [h("dt", {}, "Refund"), h("dd", {}, money(o.refund))],
      ),
      h(
        "table",
        { "aria-label": "Order lines" },
        h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "Item"), h("th", {}, "Qty"), h("th", {}, "Term"), h("th", {}, "Price"))),
        h(
          "tbody",
          {},
          ...o.lines.map((l) =>
            h(
              "tr",
              {},
              h("td", {}, String(l.lineNumber)),
              h("td", {}, `${l.skuTitle} (${l.catalogItemId})`),
              h("td", {}, String(l.quantity)),
              h("td", {}, `${term(l.term)}, ${cycle(l.billingCycle).toLowerCase()}`),
              h("td", {}, money(l.termPrice)),
            ),
          ),
        ),
      ),
      o.status !== OrderStatus.CANCELLED && [
        h("p", { class: "hint" }, "An order can be cancelled within 7 days (perpetual software: 30 days), for a pro-rata refund."),
        h("button", { type: "button", onclick: cancel }, "Cancel order"),
      ],
      h("p", {}, h("a", { href: "#/orders" }, "All orders")),
    );
  };
  void load();
}
