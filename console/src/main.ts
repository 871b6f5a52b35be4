// The console's entry: the header (who is signed in, the open customer, the screens), and the
// router (location.hash) that shows one screen in <main>.
import "./style.css";
import { readToken } from "./api.js";
import { App } from "./app.js";
import { cartScreen } from "./cart.js";
import { changesScreen, stopWatching } from "./changes.js";
import { customerScreen, customersScreen } from "./customers.js";
import { fill, h } from "./dom.js";
import { orderScreen, ordersScreen } from "./orders.js";
import { productsScreen } from "./products.js";
import { signInScreen } from "./signin.js";

const app = new App();
const header = document.getElementById("top") as HTMLElement;
const main = document.getElementById("main") as HTMLElement;

const SCREENS: [string, string][] = [
  ["#/customers", "Customers"],
  ["#/products", "Add products"],
  ["#/cart", "Cart"],
  ["#/orders", "Orders"],
  ["#/changes", "Catalog changes"],
];

/** The platform's catalog admin has no customers: only the catalog changes. */
const screens = (role: string): [string, string][] => (role === "catalog_admin" ? SCREENS.slice(-1) : SCREENS);

function drawHeader(): void {
  const s = app.session;
  const current = `#/${location.hash.slice(2).split("/")[0]}`;
  fill(
    header,
    h("h1", {}, "CSP Commerce"),
    s &&
      h(
        "nav",
        { "aria-label": "Screens" },
        ...screens(s.role).map(([href, text]) => h("a", { href, "aria-current": href === current ? "page" : null }, text)),
      ),
    s &&
      h(
        "p",
        { class: "who" },
        `${s.role.replace(/_/g, " ")}${s.partnerId ? ` of partner ${s.partnerId.slice(0, 8)}…` : ""}`,
        app.customer && [" · customer ", h("a", { href: `#/customers/${app.customer.id}`, class: "customer" }, app.customer.companyName)],
        " ",
        h("button", { type: "button", onclick: () => app.signOut() }, "Sign out"),
      ),
  );
}

async function route(): Promise<void> {
  stopWatching();
  const [screen, id] = location.hash.replace(/^#\/?/, "").split("/");
  if (!app.session && screen !== "signin") {
    location.hash = "#/signin";
    return;
  }
  drawHeader();
  switch (screen) {
    case "signin":
      return signInScreen(app, main);
    case "customers":
      return id ? customerScreen(app, main, decodeURIComponent(id)) : customersScreen(app, main);
    case "products":
      return productsScreen(app, main);
    case "cart":
      return cartScreen(app, main);
    case "orders":
      return id ? orderScreen(app, main, decodeURIComponent(id)) : ordersScreen(app, main);
    case "changes":
      return changesScreen(app, main);
    default:
      location.hash = app.session?.role === "catalog_admin" ? "#/changes" : "#/customers";
  }
}

async function boot(): Promise<void> {
  const saved = app.savedToken();
  const session = saved ? readToken(saved) : null;
  if (session && !(session instanceof Error)) {
    app.signIn(session);
    const customerId = app.savedCustomerId();
    if (customerId) {
      try {
        const { customer } = await app.client.customers.getCustomer({ customerId });
        if (customer) app.customer = customer;
      } catch {
        // Gone or the token no longer works: the screens say so.
      }
    }
  }
  app.onChange = () => void route();
  app.onCustomer = drawHeader;
  window.addEventListener("hashchange", () => void route());
  await route();
  performance.mark("console-ready");
}

void boot();
