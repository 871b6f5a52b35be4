// Placeholder until the server's dev sign-in lands.
import type { App } from "./app.js";
import { h } from "./dom.js";

export function devSignIn(_app: App): HTMLElement {
  return h("div");
}
