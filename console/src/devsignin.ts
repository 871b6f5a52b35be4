// The development sign-in: on a loopback address, when the server runs with its development
// secret, pick a demo partner and a role and the server mints the token (GET /dev/partners,
// GET /dev/token?partner=us&role=sales_agent). Anywhere else the server answers 404 and
// nothing is shown.
import { readToken } from "./api.js";
import { type App, section } from "./app.js";
import { field, formValue, h, select } from "./dom.js";

interface DevPartner {
  key: string;
  name: string;
  country: string;
}

const PARTNER_ROLES = ["sales_agent", "admin_agent", "global_admin", "helpdesk_agent"];
const PLATFORM_ROLES = ["catalog_admin"];
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

export function devSignIn(app: App): HTMLElement {
  const slot = h("div");
  if (LOOPBACK.test(location.hostname)) void fillPicker(app, slot);
  return slot;
}

async function fillPicker(app: App, slot: HTMLElement): Promise<void> {
  let partners: DevPartner[];
  try {
    const reply = await fetch("/dev/partners", { cache: "no-store" });
    if (!reply.ok) return;
    partners = (await reply.json()) as DevPartner[];
  } catch {
    return;
  }
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const partner = select(
    "partner",
    partners.map((p): [string, string] => [p.key, `${p.name} (${p.key}, ${p.country})`]),
  );
  const role = select("role", [...PARTNER_ROLES, ...PLATFORM_ROLES].map((r): [string, string] => [r, r.replace(/_/g, " ")]));
  const sync = () => {
    partner.disabled = PLATFORM_ROLES.includes(role.value);
  };
  role.addEventListener("change", sync);
  const form: HTMLFormElement = h(
    "form",
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const chosen = formValue(form, "role");
        const query = new URLSearchParams({ role: chosen });
        if (!PLATFORM_ROLES.includes(chosen)) query.set("partner", formValue(form, "partner"));
        const reply = await fetch(`/dev/token?${query}`, { cache: "no-store" });
        const body = (await reply.json().catch(() => ({}))) as { token?: string; error?: string };
        const session = body.token ? readToken(body.token) : new Error(body.error ?? `The server answered ${reply.status}.`);
        if (session instanceof Error) {
          problem.textContent = session.message;
          problem.hidden = false;
          return;
        }
        app.enter(session);
      },
    },
    h("p", { class: "hint" }, "This server runs with its development secret on this machine: pick a demo partner and a role."),
    field("Demo partner", partner),
    field("Role", role),
    problem,
    h("button", { type: "submit" }, "Sign in as this demo partner"),
  );
  slot.replaceChildren(section("Development sign-in", form));
}
