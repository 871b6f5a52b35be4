// connect(): a client per service with the token on every call, plaintext only to loopback.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { Code, ConnectError } from "@connectrpc/connect";
import { connect } from "@csp-commerce/client";

import { startServer, type TestServer } from "./server.js";
import { US_FABRIKAM } from "./support.js";

describe("connect", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.stop());

  it("sends the token on every call of the four clients", async () => {
    const api = connect({ baseUrl: `http://${server.address}`, token: server.token("us", "sales_agent") });
    const { customer } = await api.customers.getCustomer({ customerId: US_FABRIKAM });
    assert.equal(customer?.companyName, "Fabrikam, Inc.");
    const page = await api.catalog.listProducts({ filter: { country: "US", text: "e3" }, pageSize: 3 });
    assert.ok(page.products.length > 0);
    await api.carts.listCarts({ customerId: US_FABRIKAM });
    await api.orders.listOrders({ customerId: US_FABRIKAM });
  });

  it("authenticates with the token it is given", async () => {
    const api = connect({ baseUrl: `http://${server.address}`, token: "not-a-jwt" });
    await assert.rejects(api.customers.getCustomer({ customerId: US_FABRIKAM }), (e) => {
      assert.equal(ConnectError.from(e).code, Code.Unauthenticated);
      return true;
    });
  });

  it("refuses plaintext beyond loopback, and accepts loopback and https", () => {
    for (const baseUrl of ["http://192.0.2.10:50051", "http://api.example.com"]) {
      assert.throws(() => connect({ baseUrl, token: "t" }), /https:\/\//, baseUrl);
    }
    for (const baseUrl of ["http://localhost:50051", "http://[::1]:50051", "http://127.0.0.2:50051", "https://api.example.com"]) {
      assert.doesNotThrow(() => connect({ baseUrl, token: "t" }), baseUrl);
    }
  });
});
