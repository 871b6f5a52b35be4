// Customers: create (idempotent per requestId) and read back.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { requestId, startServer, type TestServer } from "./server.js";

describe("customers", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.stop());

  it("creates a customer once per requestId and reads it back", async () => {
    const { customers } = server.clients();
    const request = {
      requestId: requestId(),
      companyName: "TypeScript Client Test Ltd",
      country: "US",
      email: "it@ts-client.example.com",
      domain: "ts-client.example.com",
    };
    const created = (await customers.createCustomer(request)).customer!;
    assert.ok(created.id && created.etag);
    assert.equal(created.companyName, "TypeScript Client Test Ltd");

    const retried = (await customers.createCustomer(request)).customer!;
    assert.equal(retried.id, created.id, "a retry with the same requestId returns the first customer");

    const read = (await customers.getCustomer({ customerId: created.id })).customer!;
    assert.equal(read.domain, "ts-client.example.com");
    assert.equal(read.agreement, undefined);

    const listed: string[] = [];
    let pageToken = "";
    do {
      const page = await customers.listCustomers({ pageSize: 2, pageToken });
      listed.push(...page.customers.map((c) => c.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.equal(listed.filter((id) => id === created.id).length, 1);
  });
});
