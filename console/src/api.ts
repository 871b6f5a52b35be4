// The API over gRPC-Web, on the origin that served the page (the server answers gRPC-Web and
// native gRPC on one port), with the signed-in token on every call.
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

import { CartService } from "../../clients/typescript/src/gen/csp/commerce/v1/cart_pb.js";
import { CatalogAdminService, CatalogService } from "../../clients/typescript/src/gen/csp/commerce/v1/catalog_pb.js";
import { CustomerService } from "../../clients/typescript/src/gen/csp/commerce/v1/customer_pb.js";
import { OrderService } from "../../clients/typescript/src/gen/csp/commerce/v1/order_pb.js";

export interface Api {
  catalog: Client<typeof CatalogService>;
  admin: Client<typeof CatalogAdminService>;
  customers: Client<typeof CustomerService>;
  carts: Client<typeof CartService>;
  orders: Client<typeof OrderService>;
}

/** What the console shows of a token: its role and partner (read, not verified: the server verifies). */
export interface Session {
  token: string;
  role: string;
  partnerId: string;
  subject: string;
  expires: number;
}

export function connect(token: string, baseUrl = location.origin): Api {
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createGrpcWebTransport({ baseUrl, interceptors: [bearer] });
  return {
    catalog: createClient(CatalogService, transport),
    admin: createClient(CatalogAdminService, transport),
    customers: createClient(CustomerService, transport),
    carts: createClient(CartService, transport),
    orders: createClient(OrderService, transport),
  };
}

/** The claims of a JWT, or an Error saying why the text is not one. */
export function readToken(text: string): Session | Error {
  const token = text.trim().replace(/^Bearer\s+/i, "");
  const parts = token.split(".");
  if (parts.length !== 3) return new Error("A token has three parts separated by dots: paste the whole output of `csp-commerce token`.");
  try {
    const json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(parts[1].length / 4) * 4, "="));
    const claims = JSON.parse(json) as Record<string, unknown>;
    const role = typeof claims.role === "string" ? claims.role : "";
    if (!role) return new Error("This token names no role.");
    return {
      token,
      role,
      partnerId: typeof claims.partner_id === "string" ? claims.partner_id : "",
      subject: typeof claims.sub === "string" ? claims.sub : "",
      expires: typeof claims.exp === "number" ? claims.exp : 0,
    };
  } catch {
    return new Error("This is not a token: its middle part is not readable.");
  }
}

/** A fresh idempotency key for a write (a UUID v4; randomUUID needs a secure context). */
export function requestId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
