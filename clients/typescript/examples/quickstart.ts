import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CatalogService, CustomerService } from "@csp-commerce/client";

const auth: Interceptor = (next) => (req) => { req.header.set("authorization", `Bearer ${process.env.CSP_TOKEN}`); return next(req); };
const transport = createGrpcTransport({ baseUrl: `http://${process.env.CSP_ADDR ?? "127.0.0.1:50051"}`, interceptors: [auth] });
const page = await createClient(CatalogService, transport).listProducts({ filter: { country: "US", text: "e3" }, pageSize: 3 });
for (const product of page.products) console.log(product.id, product.title);
const { customer } = await createClient(CustomerService, transport).createCustomer({ requestId: crypto.randomUUID(), // idempotency key: retry with the same one
  companyName: "Contoso Ltd", country: "US", email: "it@contoso.example.com", domain: "contoso.example.com" });
console.log("customer", customer?.id);
