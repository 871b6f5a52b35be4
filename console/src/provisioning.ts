// What a cart line must carry beyond its quantity: an Azure reservation's scope and Azure
// subscription, an add-on's base subscription (or a base line in the same cart).
import type { MessageInitShape } from "@bufbuild/protobuf";

import type { ProvisioningContextSchema } from "../../clients/typescript/src/gen/csp/commerce/v1/cart_pb.js";
import type { SkuRef } from "../../clients/typescript/src/gen/csp/commerce/v1/common_pb.js";
import { SubscriptionStatus } from "../../clients/typescript/src/gen/csp/commerce/v1/order_pb.js";
import type { App } from "./app.js";
import { h } from "./dom.js";

export type Context = MessageInitShape<typeof ProvisioningContextSchema>;

export interface Needs {
  title: string;
  variables: string[];
  isAddon: boolean;
  /** An add-on's bases, when known (any active subscription otherwise). */
  prerequisites: SkuRef[];
}

/** The controls a line of `needs` asks for, and the context they make. */
export function provisioningFields(app: App, needs: Needs): { controls: HTMLElement[]; context: () => Context } {
  const controls: HTMLElement[] = [];
  let scope: HTMLSelectElement | null = null;
  let azure: HTMLInputElement | null = null;
  let parent: HTMLSelectElement | null = null;
  if (needs.variables.includes("scope")) {
    scope = h(
      "select",
      { "aria-label": `Reservation scope of ${needs.title}` },
      h("option", { value: "single" }, "Single subscription"),
      h("option", { value: "shared" }, "Shared"),
    );
    controls.push(h("label", {}, "Scope ", scope));
  }
  if (needs.variables.includes("azure_subscription_id")) {
    azure = h("input", { placeholder: "Azure subscription id", "aria-label": `Azure subscription of ${needs.title}` });
    controls.push(azure);
  }
  const customer = app.customer;
  if (needs.isAddon && customer) {
    parent = h(
      "select",
      { "aria-label": `Base subscription of ${needs.title}` },
      h("option", { value: "" }, "A base line in this cart"),
    );
    controls.push(h("label", {}, "Base ", parent));
    const bases = new Set(needs.prerequisites.map((p) => `${p.productId}:${p.skuId}`));
    const target = parent;
    void app.client.orders
      .listSubscriptions({ customerId: customer.id, status: SubscriptionStatus.ACTIVE, pageSize: 200 })
      .then((reply) => {
        for (const s of reply.subscriptions) {
          if (bases.size > 0 && !bases.has(`${s.productId}:${s.skuId}`)) continue;
          target.append(h("option", { value: s.id }, `${s.title} × ${s.quantity} (${s.id.slice(0, 8)}…)`));
        }
      })
      .catch(() => {
        // The list is a convenience: the base line in the cart still works, and checkout judges.
      });
  }
  return {
    controls,
    context: () => ({
      scope: scope?.value ?? "",
      azureSubscriptionId: azure?.value.trim() ?? "",
      parentSubscriptionId: parent?.value ?? "",
    }),
  };
}
