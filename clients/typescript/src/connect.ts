// Hand-written (src/gen is generated): connect() returns a client per csp.commerce.v1 service over
// one gRPC transport, with the bearer token on every call.
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport, type GrpcTransportOptions } from "@connectrpc/connect-node";

import { CartService } from "./gen/csp/commerce/v1/cart_pb.js";
import { CatalogService } from "./gen/csp/commerce/v1/catalog_pb.js";
import { CustomerService } from "./gen/csp/commerce/v1/customer_pb.js";
import { OrderService } from "./gen/csp/commerce/v1/order_pb.js";
import { SubscriptionEventService } from "./gen/csp/commerce/v1/subscription_events_pb.js";

/** The server's base URL and the bearer token, plus any option of Connect's gRPC transport
 * (`nodeOptions` for TLS certificates, more `interceptors`, ...). */
export type ConnectOptions = Omit<GrpcTransportOptions, "baseUrl"> & {
  /** `https://host:port`, or `http://` to a loopback address (127.0.0.1, ::1, localhost). */
  baseUrl: string;
  token: string;
};

/** A client of every csp.commerce.v1 service. */
export interface CommerceClients {
  catalog: Client<typeof CatalogService>;
  customers: Client<typeof CustomerService>;
  carts: Client<typeof CartService>;
  orders: Client<typeof OrderService>;
  events: Client<typeof SubscriptionEventService>;
}

const LOOPBACK = new Set(["localhost", "[::1]"]);

/**
 * Clients of the server at `baseUrl` whose calls all carry `authorization: Bearer <token>`.
 * Plaintext (`http://`) is allowed only to a loopback address, so the token never crosses a
 * network in clear: use `https://` for any other server.
 */
export function connect({ baseUrl, token, interceptors = [], ...options }: ConnectOptions): CommerceClients {
  const url = new URL(baseUrl);
  if (url.protocol === "http:" && !LOOPBACK.has(url.hostname) && !url.hostname.startsWith("127.")) {
    throw new Error(`connect: ${baseUrl} is not a loopback address, and plaintext would send the token in clear: use https://`);
  }
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createGrpcTransport({ ...options, baseUrl, interceptors: [bearer, ...interceptors] });
  return {
    catalog: createClient(CatalogService, transport),
    customers: createClient(CustomerService, transport),
    carts: createClient(CartService, transport),
    orders: createClient(OrderService, transport),
    events: createClient(SubscriptionEventService, transport),
  };
}
