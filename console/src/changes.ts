// Catalog changes: a live panel (WatchCatalogChanges, a server stream over gRPC-Web) and, for
// catalog admins, what publishing an imported month would change (ListMonthChanges) before
// publishing it.
import { type CatalogChange, ChangeKind } from "../../clients/typescript/src/gen/csp/commerce/v1/catalog_pb.js";
import { requestId } from "./api.js";
import { type App, errorBox, guarded, pager, section } from "./app.js";
import { field, fill, formValue, h } from "./dom.js";
import { productType, segment } from "./format.js";

/** The live panel keeps the newest changes only. */
const SHOWN = 200;

const kind = (k: ChangeKind) => ChangeKind[k].toLowerCase();

function changeItem(c: CatalogChange): HTMLLIElement {
  const item = [c.productId, c.skuId, c.availabilityId].filter(Boolean).join(":");
  return h(
    "li",
    { class: `change ${kind(c.kind)}`, "data-revision": String(c.revision) },
    h("strong", {}, c.revision ? `#${c.revision} ` : "", kind(c.kind)),
    " ",
    h("code", {}, item),
    ` ${c.month} · ${productType(c.productType)}${c.country ? ` · ${c.country}` : ""}${c.segment ? ` · ${segment(c.segment)}` : ""}`,
    c.changes.length > 0 &&
      h("ul", {}, ...c.changes.slice(0, 6).map((f) => h("li", {}, `${f.field}: ${f.before || "—"} → ${f.after || "—"}`))),
  );
}

/** The stream of the live panel, ended when the screen is left. */
let live: AbortController | null = null;

export function stopWatching(): void {
  live?.abort();
  live = null;
}

export function changesScreen(app: App, main: HTMLElement): void {
  const state = h("p", { class: "watch-state", role: "status" }, "Connecting…");
  const feed = h("ol", { class: "changes", "aria-label": "Catalog changes, newest first", reversed: true });
  const problem = h("div");
  const watch = async () => {
    stopWatching();
    const controller = new AbortController();
    live = controller;
    try {
      const stream = app.client.catalog.watchCatalogChanges({ start: { case: "fromNow", value: true } }, { signal: controller.signal });
      for await (const message of stream) {
        const event = message.event;
        if (event.case === "progress") {
          state.textContent = `Live: up to date at revision ${event.value.currentRevision}.`;
        } else if (event.case === "changes") {
          const items = event.value.changes.map(changeItem).reverse();
          feed.prepend(...items);
          while (feed.children.length > SHOWN) feed.lastElementChild?.remove();
          const last = event.value.changes[event.value.changes.length - 1];
          state.textContent = `Live: ${event.value.changes.length} changes arrived, up to revision ${last?.revision ?? "?"}.`;
        }
      }
      state.textContent = "The server ended the stream.";
    } catch (error) {
      if (controller.signal.aborted) return;
      state.textContent = "Disconnected.";
      fill(problem, errorBox(app, error), h("button", { type: "button", onclick: () => void watch() }, "Reconnect"));
    }
  };
  const panels: HTMLElement[] = [
    section(
      "Live catalog changes",
      state,
      problem,
      h("button", { type: "button", onclick: () => feed.replaceChildren() }, "Clear"),
      feed,
    ),
  ];
  if (app.session?.role === "catalog_admin") panels.push(monthDiff(app));
  main.replaceChildren(...panels);
  void watch();
}

function monthDiff(app: App): HTMLElement {
  const out = h("div", { "aria-live": "polite" });
  let month = "";
  let tokens: string[] = [];
  const show = (pageToken: string) =>
    guarded(app, out, async () => {
      const reply = await app.client.admin.listMonthChanges({ month, pageSize: 100, pageToken });
      fill(
        out,
        h("p", {}, `Publishing ${month} would make ${reply.changes.length}${reply.nextPageToken ? "+" : ""} changes on this page:`),
        h("ol", { class: "changes", "aria-label": `Changes of ${month}` }, ...reply.changes.map(changeItem)),
        pager(tokens, pageToken, reply.nextPageToken, (token) => void show(token)),
        h("button", { type: "button", class: "primary", onclick: () => void publish() }, `Publish ${month}`),
      );
    });
  const publish = () =>
    guarded(app, out, async () => {
      const reply = await app.client.admin.publishMonth({ requestId: requestId(), month });
      fill(out, h("p", { class: "ok" }, `${reply.month} published: revisions ${reply.firstRevision} to ${reply.lastRevision}.`));
    });
  const form: HTMLFormElement = h(
    "form",
    {
      onsubmit: (event: Event) => {
        event.preventDefault();
        month = formValue(form, "month");
        tokens = [];
        void show("");
      },
    },
    field("Imported month (YYYY-MM)", h("input", { name: "month", required: true, pattern: "\\d{4}-\\d{2}", placeholder: "2026-12" })),
    h("button", { type: "submit" }, "Show its changes"),
  );
  return section("A month's changes before publishing", form, out);
}
