// Sign in: paste a token (`csp-commerce token --partner us --role sales_agent`), or on a
// loopback address pick a demo partner and role (the server's dev sign-in, loopback only).
import { readToken } from "./api.js";
import { type App, section } from "./app.js";
import { field, formValue, h } from "./dom.js";
import { devSignIn } from "./devsignin.js";

export function signInScreen(app: App, main: HTMLElement): void {
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const token = h("textarea", { name: "token", rows: 4, required: true, autocomplete: "off", spellcheck: "false" });
  const form = h(
    "form",
    {
      onsubmit: (event: Event) => {
        event.preventDefault();
        const session = readToken(formValue(form, "token"));
        if (session instanceof Error) {
          problem.textContent = session.message;
          problem.hidden = false;
          return;
        }
        app.enter(session);
      },
    },
    field("Token", token),
    h("p", { class: "hint" }, "The output of ", h("code", {}, "csp-commerce token --partner us --role sales_agent"), "."),
    problem,
    h("button", { type: "submit" }, "Sign in"),
  );
  main.replaceChildren(section("Sign in", form), devSignIn(app));
  token.focus();
}
