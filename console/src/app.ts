// The console's state (who is signed in, which customer is open, its cart) and what every
// screen shares: navigation, the status line and error boxes.
import type { Customer } from "../../clients/typescript/src/gen/csp/commerce/v1/customer_pb.js";
import { connect, type Api, type Session } from "./api.js";
import { h, type Child } from "./dom.js";
import { explain } from "./errors.js";

const TOKEN_KEY = "csp-console-token";
const CUSTOMER_KEY = "csp-console-customer";
const cartKey = (customerId: string) => `csp-console-cart-${customerId}`;

export class App {
  api: Api | null = null;
  session: Session | null = null;
  customer: Customer | null = null;
  /** Called to show the route again (after sign-in or sign-out). */
  onChange: () => void = () => {};
  /** Called when the open customer changes (the header names it). */
  onCustomer: () => void = () => {};

  signIn(session: Session): void {
    this.session = session;
    this.api = connect(session.token);
    sessionStorage.setItem(TOKEN_KEY, session.token);
  }

  /** Signs in and opens the role's first screen. */
  enter(session: Session): void {
    this.signIn(session);
    location.hash = session.role === "catalog_admin" ? "#/changes" : "#/customers";
    this.onChange();
  }

  signOut(): void {
    this.session = null;
    this.api = null;
    this.customer = null;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(CUSTOMER_KEY);
    location.hash = "#/signin";
    this.onChange();
  }

  savedToken(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  savedCustomerId(): string | null {
    return sessionStorage.getItem(CUSTOMER_KEY);
  }

  choose(customer: Customer): void {
    this.customer = customer;
    sessionStorage.setItem(CUSTOMER_KEY, customer.id);
    this.onCustomer();
  }

  cartId(customerId: string): string | null {
    return sessionStorage.getItem(cartKey(customerId));
  }

  setCartId(customerId: string, cartId: string | null): void {
    if (cartId) sessionStorage.setItem(cartKey(customerId), cartId);
    else sessionStorage.removeItem(cartKey(customerId));
  }

  /** The signed-in API; screens are shown only when signed in. */
  get client(): Api {
    if (!this.api) throw new Error("not signed in");
    return this.api;
  }

  /** Says `text` in the status line (read out by screen readers). */
  say(text: string): void {
    const status = document.getElementById("status");
    if (status) status.textContent = text;
  }
}

/**
 * An error box: the summary, every detail as a sentence, and for a conflict a Reload button
 * that calls `reload`. A refused token signs out.
 */
export function errorBox(app: App, error: unknown, reload?: () => void): HTMLElement {
  const e = explain(error);
  if (e.signedOut && app.session) {
    queueMicrotask(() => app.signOut());
  }
  return h(
    "div",
    { class: `error${e.conflict ? " conflict" : ""}`, role: "alert" },
    h("p", {}, h("strong", {}, e.summary)),
    e.details.length > 0 && h("ul", {}, ...e.details.map((d) => h("li", {}, d))),
    e.conflict && reload && h("button", { type: "button", onclick: () => reload() }, "Reload"),
  );
}

/** Runs `work`, showing "Loading…" in `where`, then an error box there if it fails. */
export async function guarded(app: App, where: HTMLElement, work: () => Promise<void>, reload?: () => void): Promise<void> {
  where.setAttribute("aria-busy", "true");
  try {
    await work();
  } catch (error) {
    where.replaceChildren(errorBox(app, error, reload));
  } finally {
    where.removeAttribute("aria-busy");
  }
}

/** A section with a heading. */
export const section = (title: string, ...children: Child[]): HTMLElement =>
  h("section", { "aria-label": title }, h("h2", {}, title), ...children);

/** "Open a customer first" with a link to the customers. */
export const needCustomer = (): HTMLElement =>
  h("p", { class: "hint" }, "Choose a customer first: ", h("a", { href: "#/customers" }, "Customers"), ".");

/**
 * Previous/Next over AIP-158 pages: `tokens` holds the page tokens of the pages before the one
 * shown (`pageToken`), `next` is the answer's next_page_token, `show` shows a page.
 */
export function pager(tokens: string[], pageToken: string, next: string, show: (token: string) => void, summary?: string): HTMLElement {
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    h("button", { type: "button", disabled: tokens.length === 0, onclick: () => show(tokens.pop() ?? "") }, "Previous"),
    summary && h("span", {}, summary),
    h(
      "button",
      {
        type: "button",
        disabled: !next,
        onclick: () => {
          tokens.push(pageToken);
          show(next);
        },
      },
      "Next",
    ),
  );
}

/** A button that opens (filling `target` with `load`) and closes (emptying it) a nested panel. */
export function disclosure(app: App, text: string, label: string, target: HTMLElement, load: () => Promise<void>): HTMLButtonElement {
  let open = false;
  const button: HTMLButtonElement = h(
    "button",
    {
      type: "button",
      "aria-expanded": "false",
      "aria-label": label,
      onclick: () => {
        open = !open;
        button.setAttribute("aria-expanded", String(open));
        if (!open) return target.replaceChildren();
        void guarded(app, target, load);
      },
    },
    text,
  );
  return button;
}
