// connect(): a client per service with the token on every call, plaintext only to loopback.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

describe("connect over TLS", () => {
  let server: TestServer;
  let ca: Buffer;
  const dir = mkdtempSync(join(tmpdir(), "csp-commerce-ts-tls-"));
  before(async () => {
    // A key and a self-signed certificate for localhost and 127.0.0.1.
    const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { stdio: "ignore" });
    ca = readFileSync(cert);
    server = await startServer({ CSP_TLS_CERT_FILE: cert, CSP_TLS_KEY_FILE: key }, ca);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends the token over https:// with the transport's TLS options", async () => {
    const port = server.address.split(":")[1];
    const api = connect({ baseUrl: `https://localhost:${port}`, token: server.token("us", "sales_agent"), nodeOptions: { ca } });
    const { customer } = await api.customers.getCustomer({ customerId: US_FABRIKAM });
    assert.equal(customer?.companyName, "Fabrikam, Inc.");
    const plaintext = connect({ baseUrl: `http://localhost:${port}`, token: server.token("us", "sales_agent") });
    await assert.rejects(plaintext.customers.getCustomer({ customerId: US_FABRIKAM }, { timeoutMs: 5000 }));
  });
});
