// A tiny DOM builder: h("button", { onclick, "aria-label": ... }, "text", child...). Strings become
// text nodes (never HTML), so nothing the server or a user sends is ever parsed as markup.
export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: Event) => void;
export type Props = Record<string, string | number | boolean | Handler | null | undefined>;

// Set as properties, not attributes: what the user sees and edits.
const PROPERTIES = new Set(["value", "checked", "selected"]);

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      el.addEventListener(name.replace(/^on/, ""), value);
    } else if (PROPERTIES.has(name)) {
      (el as unknown as Record<string, unknown>)[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `parent`. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let ids = 0;
/** A unique element id, to tie a <label> to its control. */
export const uid = (prefix: string): string => `${prefix}-${++ids}`;

/** A labelled control: <label for=id>text</label> followed by the control. */
export function field(label: string, control: HTMLElement): HTMLElement {
  const id = control.id || uid("f");
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

/** A <select> of [value, text] options. */
export function select(name: string, options: [string, string][], value = ""): HTMLSelectElement {
  return h("select", { name }, ...options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

/** The value of a form's field, trimmed. */
export function formValue(form: HTMLFormElement, name: string): string {
  const value = new FormData(form).get(name);
  return typeof value === "string" ? value.trim() : "";
}
