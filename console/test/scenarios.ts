// The console in a real browser (Debian's Chromium, driven by playwright-core; nothing downloads
// a browser) against the real server: the seed's flows end to end, each step's screenshot in
// CSP_SCREENSHOTS. Run by console/test.sh, which sets CSP_BIN, CSP_CHROMIUM and the folders.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";

import { chromium, type Browser, type Page } from "playwright-core";

import { type Server, startServer } from "./server.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run console/test.sh`);
  return value;
};
const SHOTS = env("CSP_SCREENSHOTS");
const DEMO = env("CSP_DEMO_DIR");
const MARKETS = ["US", "DE", "FR", "GB", "IE", "JP", "SK"];
// How long one step may wait for the page (a step of a healthy run takes well under a second).
const STEP_MS = 15_000;

let server: Server;
let browser: Browser;
/** Uncaught errors of any page since the last test: each test ends with none. */
const pageErrors: string[] = [];

async function newPage(width = 1100): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on("pageerror", (e) => pageErrors.push(e.message));
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Signs in by keyboard: the token field has the focus, Tab reaches the button, Enter presses it. */
async function signIn(page: Page, partner: string, role = "sales_agent"): Promise<void> {
  await page.goto(`${server.url}/#/signin`);
  await page.getByLabel("Token").waitFor();
  await page.keyboard.insertText(server.token(partner, role));
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** Signs in with the development sign-in's picker (loopback and the development secret). */
async function pickDemoPartner(page: Page, partnerKey: string, role: string): Promise<void> {
  await page.goto(`${server.url}/#/signin`);
  await page.getByLabel("Demo partner").selectOption(partnerKey);
  await page.getByLabel("Role").selectOption(role);
  await page.getByRole("button", { name: "Sign in as this demo partner" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

async function openCustomer(page: Page, name: string): Promise<void> {
  await page.goto(`${server.url}/#/customers`);
  await page.getByLabel("Search by name").fill(name);
  await page.getByRole("link", { name: `Open ${name}` }).click();
  await page.getByRole("heading", { name }).waitFor();
}

/** Searches Add products with `text`, in the SKU view or among the customer's offers. */
async function search(page: Page, text: string, how: { view?: "SKUs"; offersOnly?: boolean }): Promise<void> {
  await page.goto(`${server.url}/#/products`);
  await page.getByLabel("Search", { exact: true }).fill(text);
  if (how.view) await page.getByLabel("View").selectOption({ label: how.view });
  if (how.offersOnly) await page.getByLabel(/Only what .* may buy/).check();
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.locator(".results .row").first().waitFor();
}

/** The SKU `item` (PRODUCT:SKU) of the SKU view, its buy options open. */
async function buyOptions(page: Page, item: string) {
  const row = page.locator(`li.row[data-item="${item}"]`);
  await row.getByRole("button", { name: /^Buy options of/ }).click();
  await row.locator("li.buy").first().waitFor();
  return row;
}

async function addFirstTerm(page: Page, item: string): Promise<void> {
  const row = await buyOptions(page, item);
  await row.getByRole("button", { name: /^Add .* to the cart$/ }).first().click();
  await row.getByText(/Added to the cart/).waitFor();
}

async function buy(page: Page): Promise<string> {
  await page.goto(`${server.url}/#/cart`);
  await page.getByRole("button", { name: "Buy" }).click();
  const number = (await page.locator(".order-number").textContent({ timeout: STEP_MS })) ?? "";
  assert.match(number, /^ORD-/);
  return number;
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer(env("CSP_BIN"), DEMO);
  browser = await chromium.launch({ executablePath: env("CSP_CHROMIUM"), args: ["--no-sandbox"] });
});

afterEach(() => {
  assert.deepEqual(pageErrors.splice(0), [], "uncaught errors in the page");
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe("the console in Chromium", () => {
  it("paints its first screen quickly and measures it", async () => {
    const page = await newPage();
    const paintOf = () => page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1);
    // A first visit, nothing cached: the sign-in screen.
    await page.goto(`${server.url}/`);
    await page.getByLabel("Token").waitFor();
    const coldPaint = await paintOf();
    await signIn(page, "us");
    await page.reload();
    // A returning agent: the token is in the tab; the customers' list is the meaningful paint.
    await page.locator("main table tbody tr").first().waitFor();
    const listed = await page.evaluate(() => performance.now());
    const report = {
      cold_first_contentful_paint_ms: Math.round(coldPaint),
      first_contentful_paint_ms: Math.round(await paintOf()),
      customers_listed_ms: Math.round(listed),
    };
    console.log(`timing ${JSON.stringify(report)}`);
    writeFileSync(join(SHOTS, "timing.json"), `${JSON.stringify(report)}\n`);
    assert.ok(coldPaint > 0 && coldPaint < 1000, `first contentful paint of a first visit ${coldPaint} ms`);
    assert.ok(listed < 1000, `customers listed after ${listed} ms (target < 1 s)`);
    await shot(page, "customers");
    await page.context().close();
  });

  it("(a) the Slovak partner cannot sell Business Central Premium to its German customer, and sees why (at 400 px)", async () => {
    const page = await newPage(400);
    await signIn(page, "sk");
    await openCustomer(page, "Lamna Healthcare GmbH");
    await search(page, "Business Central Premium", { view: "SKUs" });
    const row = await buyOptions(page, "CFQ7TTC0CS5N:0001");
    await row.getByRole("button", { name: /^Check / }).first().click();
    const why = row.locator('.problem[data-code="COUNTRY_NOT_SOLD_TO_PARTNER"]');
    await why.waitFor();
    assert.match((await why.textContent()) ?? "", /SK/);
    await row.getByText("cannot buy this, because").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the 400 px window`);
    await shot(page, "a-why-not-sold");
    await page.context().close();
  });

  it("(b) a US partner buys Microsoft 365 for a customer, gets an order number and finds it in the history", async () => {
    const page = await newPage();
    await pickDemoPartner(page, "us", "sales_agent");
    await openCustomer(page, "Fabrikam, Inc.");
    await search(page, "Microsoft 365 E3", { offersOnly: true });
    await shot(page, "b-offers");
    const offer = page.locator('li.row[data-item^="CFQ7TTC09ZZR:0001:"]').first();
    await offer.getByRole("button", { name: /^Add .* to the cart$/ }).click();
    await offer.getByText(/Added to the cart/).waitFor();
    await page.goto(`${server.url}/#/cart`);
    await page.locator('li.line[data-item^="CFQ7TTC09ZZR:0001:"]').waitFor();
    await shot(page, "b-cart");
    const number = await buy(page);
    await shot(page, "b-ordered");
    await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Orders" }).click();
    await page.locator(`tr[data-order="${number}"]`).waitFor();
    await page.getByRole("link", { name: number }).click();
    await page.getByRole("heading", { name: `Order ${number}` }).waitFor();
    assert.match((await page.locator("table[aria-label='Order lines']").textContent()) ?? "", /Microsoft 365 E3/);
    await shot(page, "b-history");
    // Inside its window the order is cancelled, with its pro-rata refund.
    await page.getByRole("button", { name: "Cancel order" }).click();
    await page.getByText(`Order ${number} cancelled:`).waitFor();
    assert.equal(await page.locator(".order-status").textContent(), "cancelled");
    await page.context().close();
  });

  it("(c) an add-on is refused without its base, then bought with it", async () => {
    const page = await newPage();
    await signIn(page, "us");
    await openCustomer(page, "Woodgrove Bank Deutschland AG");
    await search(page, "Intune Extra Storage", { view: "SKUs" });
    await addFirstTerm(page, "CFQ7TTC0O3H3:0001");
    await page.goto(`${server.url}/#/cart`);
    await page.locator('.problem[data-code="ADDON_BASE_MISSING"]').waitFor();
    await page.getByRole("button", { name: "Buy" }).click();
    const refusal = page.getByRole("alert");
    await refusal.waitFor();
    assert.match((await refusal.textContent()) ?? "", /Not possible now/);
    await shot(page, "c-addon-refused");

    await search(page, "Intune", { view: "SKUs" });
    await addFirstTerm(page, "CFQ7TTC0RDXR:0001");
    await page.goto(`${server.url}/#/cart`);
    await page.locator("li.line").nth(1).waitFor();
    assert.equal(await page.locator(".problem").count(), 0, "problems left with the base in the cart");
    const number = await buy(page);
    await shot(page, "c-addon-bought");
    assert.match(number, /^ORD-/);
    await page.context().close();
  });

  it("(d) a cart changed elsewhere is refused, explained, and reloaded", async () => {
    const page = await newPage();
    await signIn(page, "us");
    await openCustomer(page, "Northwind Traders Foundation");
    await search(page, "Intune", { view: "SKUs" });
    await addFirstTerm(page, "CFQ7TTC0RDXR:0001");
    await page.goto(`${server.url}/#/cart`);
    const line = page.locator("li.line").first();
    await line.waitFor();
    const cartId = await page.evaluate(() => {
      const key = Object.keys(sessionStorage).find((k) => k.startsWith("csp-console-cart-"));
      return key ? sessionStorage.getItem(key) : null;
    });
    assert.ok(cartId, "the console keeps its cart's id");

    // A second client (gRPC-Web over HTTP/1.1, as the browser) changes the cart meanwhile.
    const carts = server.carts("us");
    const { cart } = await carts.getCart({ cartId });
    assert.ok(cart);
    const [first] = cart.lines;
    await carts.updateCartLine({
      requestId: randomUUID(),
      cartId,
      lineId: first.id,
      etag: cart.etag,
      line: { catalogItemId: first.catalogItemId, quantity: 7, term: first.term, billingCycle: first.billingCycle },
    });

    await line.getByRole("spinbutton").fill("3");
    await line.getByRole("button", { name: /^Update the quantity/ }).click();
    const conflict = page.locator(".error.conflict");
    await conflict.waitFor();
    assert.match((await conflict.textContent()) ?? "", /changed elsewhere/i);
    await shot(page, "d-conflict");
    await conflict.getByRole("button", { name: "Reload" }).click();
    await page.waitForFunction(() => (document.querySelector("li.line input[type=number]") as HTMLInputElement | null)?.value === "7");
    await page.context().close();
  });

  it("(e) a month published while the live panel is open appears in it; the admin sees the diff first", async () => {
    const agent = await newPage();
    await signIn(agent, "us");
    await agent.goto(`${server.url}/#/changes`);
    await agent.getByText(/Live: up to date at revision/).waitFor();

    // The catalog admin imports 2026-12 (files of the server's import folder), reviews its
    // changes in the console and publishes it there.
    await server.admin().importMonth(
      {
        requestId: randomUUID(),
        month: "2026-12",
        offerMatrixPath: join(DEMO, "2026-12", "offer-matrix.csv"),
        priceListPaths: MARKETS.map((m) => join(DEMO, "2026-12", `pricelist-${m}.csv`)),
      },
      { timeoutMs: 60_000 },
    );
    const admin = await newPage();
    await signIn(admin, "", "catalog_admin");
    await admin.goto(`${server.url}/#/changes`);
    await admin.getByLabel("Imported month (YYYY-MM)").fill("2026-12");
    await admin.getByRole("button", { name: "Show its changes" }).click();
    await admin.locator("ol[aria-label='Changes of 2026-12'] li.change").first().waitFor();
    await shot(admin, "e-month-diff");
    await admin.getByRole("button", { name: "Publish 2026-12" }).click();
    await admin.getByText(/2026-12 published: revisions 1 to/).waitFor({ timeout: 60_000 });

    await agent.locator("ol.changes li.change[data-revision]").first().waitFor();
    const shown = await agent.locator("ol.changes > li.change").count();
    assert.ok(shown > 0);
    await shot(agent, "e-live-changes");
    await admin.context().close();
    await agent.context().close();
  });
});
