import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CatalogService, ChangeKind } from "@csp-commerce/client";

const auth: Interceptor = (next) => (req) => { req.header.set("authorization", `Bearer ${process.env.CSP_TOKEN}`); return next(req); };
const transport = createGrpcTransport({ baseUrl: `http://${process.env.CSP_ADDR ?? "127.0.0.1:50051"}`, interceptors: [auth] });
const catalog = createClient(CatalogService, transport);
let last = BigInt(process.argv[2] ?? 0); // the last revision handled: keep it durably
for (;;) {
  try {
    for await (const { event } of catalog.watchCatalogChanges({ start: { case: "afterRevision", value: last } })) { // replay, then live
      for (const change of event.case === "changes" ? event.value.changes : []) { // revisions 1, 2, 3, ...: no gap, no duplicate
        console.log(`${change.revision} ${ChangeKind[change.kind]} ${change.productId} ${change.skuId} ${change.country}`);
        last = change.revision;
      }
      if (event.case === "progress") console.log(`caught up at ${event.value.currentRevision}`);
    }
  } catch (e) { // cut off (server restart, too slow a reader): resume after `last`
    if (![Code.Unavailable, Code.ResourceExhausted].includes(ConnectError.from(e).code)) throw e;
  }
  await new Promise((resume) => setTimeout(resume, 1000));
}
