// Customers: the list (searched by name), a new customer, and one customer's qualifications and
// agreement (accepted here).
import {
  type Customer,
  QualificationKind,
  VettingStatus,
} from "../../clients/typescript/src/gen/csp/commerce/v1/customer_pb.js";
import { requestId } from "./api.js";
import { type App, guarded, section } from "./app.js";
import { field, fill, formValue, h } from "./dom.js";
import { when } from "./format.js";

// ListCustomers pages; a partner's customers fit in a few pages of the largest size.
const PAGE = 500;

async function allCustomers(app: App): Promise<Customer[]> {
  const out: Customer[] = [];
  let pageToken = "";
  do {
    const page = await app.client.customers.listCustomers({ pageSize: PAGE, pageToken });
    out.push(...page.customers);
    pageToken = page.nextPageToken;
  } while (pageToken && out.length < 5000);
  return out;
}

export function customersScreen(app: App, main: HTMLElement): void {
  const list = h("div", { "aria-live": "polite" });
  const search = h("input", { type: "search", name: "q", autocomplete: "off" });
  let customers: Customer[] = [];
  const show = () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = customers.filter((c) => words.every((w) => c.companyName.toLowerCase().includes(w)));
    fill(
      list,
      h("p", { class: "hint" }, `${shown.length} of ${customers.length} customers`),
      shown.length > 0 &&
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, h("th", {}, "Company"), h("th", {}, "Country"), h("th", {}, "Agreement"), h("th", {}, ""))),
          h(
            "tbody",
            {},
            ...shown.map((c) =>
              h(
                "tr",
                {},
                h("td", {}, c.companyName),
                h("td", {}, c.country),
                h("td", {}, c.agreement ? "accepted" : "not accepted"),
                h("td", {}, h("a", { href: `#/customers/${c.id}`, "aria-label": `Open ${c.companyName}` }, "Open")),
              ),
            ),
          ),
        ),
    );
  };
  search.addEventListener("input", show);
  const load = () =>
    guarded(app, list, async () => {
      customers = await allCustomers(app);
      customers.sort((a, b) => a.companyName.localeCompare(b.companyName));
      show();
    });
  main.replaceChildren(
    section("Customers", field("Search by name", search), list),
    section("New customer", createForm(app)),
  );
  void load();
}

function createForm(app: App): HTMLElement {
  const outcome = h("div", { "aria-live": "polite" });
  const form: HTMLFormElement = h(
    "form",
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        await guarded(app, outcome, async () => {
          const { customer } = await app.client.customers.createCustomer({
            requestId: requestId(),
            companyName: formValue(form, "company"),
            country: formValue(form, "country").toUpperCase(),
            email: formValue(form, "email"),
            domain: formValue(form, "domain"),
          });
          if (!customer) return;
          app.say(`Customer ${customer.companyName} created.`);
          location.hash = `#/customers/${customer.id}`;
        });
      },
    },
    field("Company name", h("input", { name: "company", required: true })),
    field("Country (2 letters)", h("input", { name: "country", required: true, maxlength: 2, size: 3 })),
    field("Email", h("input", { name: "email", type: "email", required: true })),
    field("Domain", h("input", { name: "domain", required: true, placeholder: "contoso.onmicrosoft.com" })),
    h("button", { type: "submit" }, "Create customer"),
    outcome,
  );
  return form;
}

const kind = (k: QualificationKind) => QualificationKind[k].toLowerCase().replace(/_/g, " ");
const vetting = (v: VettingStatus) => VettingStatus[v].toLowerCase().replace(/_/g, " ");

export function customerScreen(app: App, main: HTMLElement, id: string): void {
  const body = h("div");
  main.replaceChildren(body);
  const load = () =>
    guarded(app, body, async () => {
      const { customer } = await app.client.customers.getCustomer({ customerId: id });
      if (!customer) return;
      app.choose(customer);
      fill(body, customerView(app, customer, load));
    });
  void load();
}

function customerView(app: App, c: Customer, reload: () => void): HTMLElement {
  const outcome = h("div", { "aria-live": "polite" });
  const accept: HTMLFormElement = h(
    "form",
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        await guarded(
          app,
          outcome,
          async () => {
            await app.client.customers.acceptAgreement({
              requestId: requestId(),
              customerId: c.id,
              etag: c.etag,
              contactName: formValue(accept, "name"),
              contactEmail: formValue(accept, "email"),
            });
            app.say("Agreement accepted.");
            reload();
          },
          reload,
        );
      },
    },
    field("Contact name", h("input", { name: "name", required: true })),
    field("Contact email", h("input", { name: "email", type: "email", required: true })),
    h("button", { type: "submit" }, "Accept the Microsoft Customer Agreement"),
  );
  return h(
    "div",
    {},
    section(
      c.companyName,
      h(
        "dl",
        {},
        h("dt", {}, "Country"), h("dd", {}, c.country),
        h("dt", {}, "Email"), h("dd", {}, c.email),
        h("dt", {}, "Domain"), h("dd", {}, c.domain),
        h("dt", {}, "Created"), h("dd", {}, when(c.createTime)),
      ),
      h(
        "nav",
        { class: "actions", "aria-label": "For this customer" },
        h("a", { href: "#/products" }, "Add products"),
        h("a", { href: "#/cart" }, "Cart"),
        h("a", { href: "#/orders" }, "Orders"),
      ),
    ),
    section(
      "Qualifications",
      c.qualifications.length === 0
        ? h("p", {}, "None: the customer buys commercial offers.")
        : h(
            "ul",
            {},
            ...c.qualifications.map((q) =>
              h("li", {}, `${kind(q.kind)}: ${vetting(q.vettingStatus)}`, q.reviewReason && ` (${q.reviewReason})`),
            ),
          ),
    ),
    section(
      "Agreement",
      c.agreement
        ? h("p", {}, `Accepted by ${c.agreement.contactName} (${c.agreement.contactEmail}) on ${when(c.agreement.acceptTime)}.`)
        : [h("p", {}, "Not accepted: the customer cannot buy until it is."), accept],
      outcome,
    ),
  );
}
