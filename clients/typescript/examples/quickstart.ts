import { connect } from "@csp-commerce/client";

const ADDR = process.env.CSP_ADDR ?? "127.0.0.1:50051";
const TOKEN = process.env.CSP_TOKEN ?? ""; // csp-commerce token --partner us --role sales_agent
const FABRIKAM = "d752e4e8-b024-505a-bcbf-8881ad9e5cfb"; // demo customer of partner us (data/demo/seed.json)

const api = connect({ baseUrl: `http://${ADDR}`, token: TOKEN }); // the token goes on every call
const { customer } = await api.customers.getCustomer({ customerId: FABRIKAM });
console.log(customer?.companyName, customer?.country);
const page = await api.catalog.listProducts({ filter: { country: customer?.country, text: "e3" }, pageSize: 3 });
for (const product of page.products) console.log(product.id, product.title);
const created = await api.customers.createCustomer({ requestId: crypto.randomUUID(), // idempotency key: retry with the same one
  companyName: "Contoso Ltd", country: "US", email: "it@contoso.example.com", domain: "contoso.example.com" });
console.log("customer", created.customer?.id);
