// Words for the wire's enums, amounts and purchase problems.
import type { Timestamp } from "@bufbuild/protobuf/wkt";

import { formatMoney } from "../../clients/typescript/src/money.js";
import {
  BillingCycle,
  BillingType,
  ProblemCode,
  ProductType,
  type PurchaseProblem,
  Segment,
  TermDuration,
} from "../../clients/typescript/src/gen/csp/commerce/v1/common_pb.js";
import type { Money } from "../../clients/typescript/src/gen/google/type/money_pb.js";
import { h } from "./dom.js";

/** "ONLINE_SERVICES" -> "Online services". */
const words = (name: string): string => {
  const text = name.toLowerCase().replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
};

const OVERRIDES: Record<string, string> = {
  "ProductType.AZURE": "Azure reservations",
  "ProductType.MARKETPLACE": "SaaS",
  "Segment.GOVERNMENT": "Government (GCC)",
  "TermDuration.P1M": "1 month",
  "TermDuration.P1Y": "1 year",
  "TermDuration.P3Y": "3 years",
  "TermDuration.NONE": "Perpetual",
  "BillingCycle.NONE": "None (trial)",
  "BillingCycle.ONE_TIME": "One time",
};

type Enum = Record<number, string>;

function label(kind: string, e: Enum, prefix: string, value: number): string {
  const name = e[value];
  if (!name || value === 0) return "—";
  return OVERRIDES[`${kind}.${name}`] ?? words(name.replace(prefix, ""));
}

// protoc-gen-es strips the enum's prefix from TypeScript names (ProductType.ONLINE_SERVICES).
export const productType = (v: ProductType): string => label("ProductType", ProductType, "", v);
export const segment = (v: Segment): string => label("Segment", Segment, "", v);
export const billingType = (v: BillingType): string => label("BillingType", BillingType, "", v);
export const term = (v: TermDuration): string => label("TermDuration", TermDuration, "", v);
export const cycle = (v: BillingCycle): string => label("BillingCycle", BillingCycle, "", v);

/** [value, text] pairs of an enum's values (not UNSPECIFIED), for a <select>. */
export function enumOptions(e: Enum, text: (v: number) => string): [string, string][] {
  return Object.keys(e)
    .map(Number)
    .filter((v) => Number.isInteger(v) && v !== 0)
    .map((v) => [String(v), text(v)]);
}

export const money = (m: Money | undefined): string => (m ? formatMoney(m) : "—");

export function when(t: Timestamp | undefined): string {
  if (!t) return "—";
  const date = new Date(Number(t.seconds) * 1000);
  return date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

/** The ProblemCode of a google.rpc reason ("ADDON_BASE_MISSING"), or undefined. */
export function problemCodeFromReason(reason: string): ProblemCode | undefined {
  const value = (ProblemCode as unknown as Record<string, number>)[reason];
  return typeof value === "number" && value !== 0 ? value : undefined;
}

const TITLES: Partial<Record<ProblemCode, string>> = {
  [ProblemCode.COUNTRY_NOT_SOLD_TO_PARTNER]: "Not sold in your country",
  [ProblemCode.COUNTRY_NOT_SOLD_TO_CUSTOMER]: "Not sold in the customer's country",
  [ProblemCode.AVAILABILITY_COUNTRY_MISMATCH]: "Priced for another country",
  [ProblemCode.SEGMENT_NOT_ALLOWED]: "Segment not open to this customer",
  [ProblemCode.GCC_PARTNER_REQUIRED]: "Needs a GCC-qualified partner",
  [ProblemCode.ADDON_BASE_MISSING]: "Add-on without its base",
  [ProblemCode.ADDON_QUANTITY_EXCEEDS_BASE]: "More add-on seats than base seats",
  [ProblemCode.NOT_IN_CURRENT_PRICE_LIST]: "Not in this month's price list",
  [ProblemCode.END_OF_SALE]: "No longer sold",
  [ProblemCode.AGREEMENT_NOT_ACCEPTED]: "Customer agreement not accepted",
  [ProblemCode.QUANTITY_BELOW_MINIMUM]: "Quantity below the minimum",
  [ProblemCode.QUANTITY_ABOVE_MAXIMUM]: "Quantity above the maximum",
  [ProblemCode.SEAT_LIMIT_EXCEEDED]: "Seat limit reached",
  [ProblemCode.TRIAL_LIMIT_REACHED]: "Trial already used",
  [ProblemCode.SUBSCRIPTION_LIMIT_REACHED]: "Subscription limit reached",
  [ProblemCode.NOT_A_TRIAL]: "Not a trial",
  [ProblemCode.CONVERSION_TARGET_NOT_ALLOWED]: "Not what this trial converts to",
  [ProblemCode.ROLE_CANNOT_PURCHASE]: "Your role may not buy",
  [ProblemCode.TERM_NOT_OFFERED]: "Term not offered",
  [ProblemCode.BILLING_CYCLE_NOT_OFFERED]: "Billing cycle not offered",
  [ProblemCode.PROVISIONING_CONTEXT_MISSING]: "Provisioning details missing",
  [ProblemCode.DUPLICATE_SKU_IN_CART]: "Same SKU twice in the cart",
  [ProblemCode.CART_EMPTY]: "The cart is empty",
  [ProblemCode.MIXED_CURRENCIES]: "Several currencies in one cart",
  [ProblemCode.CANCELLATION_WINDOW_CLOSED]: "Cancellation window closed",
  [ProblemCode.ORDER_ALREADY_CANCELLED]: "Already cancelled",
};

/** "Title: the server's sentence" for a problem code. */
export function problemText(code: ProblemCode, message: string): string {
  const title = TITLES[code];
  return title ? `${title}: ${message}` : message;
}

/** One purchase problem: its title, the server's sentence, its figures and what would fix it. */
export function problemItem(p: PurchaseProblem): HTMLLIElement {
  // The prerequisites are listed once, from their own field.
  const figures = Object.entries(p.figures)
    .filter(([k]) => !(k === "prerequisites" && p.prerequisites.length > 0))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${v}`);
  const prerequisites = p.prerequisites.map((s) => `${s.productId}:${s.skuId}`);
  return h(
    "li",
    { class: "problem", "data-code": ProblemCode[p.code] ?? "UNSPECIFIED" },
    h("strong", {}, TITLES[p.code] ?? "Cannot be bought"),
    " — ",
    p.message,
    figures.length > 0 && h("span", { class: "figures" }, ` (${figures.join("; ")})`),
    prerequisites.length > 0 &&
      h("span", { class: "figures" }, ` Needs one of: ${prerequisites.slice(0, 6).join(", ")}${prerequisites.length > 6 ? ` and ${prerequisites.length - 6} more` : ""}.`),
    p.suggestedItem?.catalogItemId && h("span", { class: "figures" }, ` Try ${p.suggestedItem.catalogItemId} instead.`),
  );
}

export function problemList(problems: PurchaseProblem[], label: string): HTMLElement | null {
  if (problems.length === 0) return null;
  return h("ul", { class: "problems", "aria-label": label }, ...problems.map(problemItem));
}
