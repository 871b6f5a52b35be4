// The open customer's cart: found (the one this tab used, else its newest active cart) or made
// on the first line added.
import {
  type Cart,
  type CartLineInput,
  CartStatus,
} from "../../clients/typescript/src/gen/csp/commerce/v1/cart_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CartLineInputSchema } from "../../clients/typescript/src/gen/csp/commerce/v1/cart_pb.js";
import { requestId } from "./api.js";
import type { App } from "./app.js";

export type LineInput = MessageInitShape<typeof CartLineInputSchema>;

/** The customer's active cart, or null when it has none. */
export async function currentCart(app: App, customerId: string): Promise<Cart | null> {
  const known = app.cartId(customerId);
  if (known) {
    try {
      const { cart } = await app.client.carts.getCart({ cartId: known });
      if (cart && cart.status === CartStatus.ACTIVE) return cart;
    } catch {
      // Deleted or not this partner's any more: look for another.
    }
  }
  let pageToken = "";
  do {
    const page = await app.client.carts.listCarts({ customerId, pageSize: 100, pageToken });
    const active = page.carts.filter((c) => c.status === CartStatus.ACTIVE);
    active.sort((a, b) => Number((b.createTime?.seconds ?? 0n) - (a.createTime?.seconds ?? 0n)));
    if (active[0]) {
      app.setCartId(customerId, active[0].id);
      return active[0];
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  app.setCartId(customerId, null);
  return null;
}

/** Adds a line to the customer's active cart (made with it when there is none). */
export async function addToCart(app: App, customerId: string, line: LineInput): Promise<Cart> {
  const cart = await currentCart(app, customerId);
  if (!cart) {
    const made = await app.client.carts.createCart({ requestId: requestId(), customerId, lines: [line] });
    if (!made.cart) throw new Error("the server answered without a cart");
    app.setCartId(customerId, made.cart.id);
    return made.cart;
  }
  const { cart: after } = await app.client.carts.addCartLine({ requestId: requestId(), cartId: cart.id, etag: cart.etag, line });
  if (!after) throw new Error("the server answered without a cart");
  return after;
}

export type { CartLineInput };
