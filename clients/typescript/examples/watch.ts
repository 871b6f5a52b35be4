import { Code, ConnectError } from "@connectrpc/connect";
import { ChangeKind, connect } from "@csp-commerce/client";

const ADDR = process.env.CSP_ADDR ?? "127.0.0.1:50051";
const TOKEN = process.env.CSP_TOKEN ?? ""; // csp-commerce token --partner us --role sales_agent

const { catalog } = connect({ baseUrl: `http://${ADDR}`, token: TOKEN }); // the token goes on every call
// Codes a retry cannot cure: the request or the token is wrong. Every other end is a cut.
const FINAL = [Code.InvalidArgument, Code.Unauthenticated, Code.PermissionDenied];
let last = BigInt(process.argv[2] ?? 0); // the last revision handled: keep it durably
let backoff = 1000;
for (;;) {
  try {
    for await (const { event } of catalog.watchCatalogChanges({ start: { case: "afterRevision", value: last } })) { // replay, then live
      backoff = 1000; // the stream works again
      for (const change of event.case === "changes" ? event.value.changes : []) { // revisions 1, 2, 3, ...: no gap, no duplicate
        console.log(`${change.revision} ${ChangeKind[change.kind]} ${change.productId} ${change.skuId} ${change.country}`);
        last = change.revision;
      }
      if (event.case === "progress") console.log(`caught up at ${event.value.currentRevision}`);
    }
  } catch (e) { // cut off however (restart, crash, proxy, too slow a reader): resume after `last`
    const code = ConnectError.from(e).code;
    if (FINAL.includes(code)) throw e;
    console.error(`stream ended (${Code[code]}): resuming after ${last}`);
  }
  await new Promise((resume) => setTimeout(resume, backoff * (0.5 + Math.random() / 2))); // jittered, so a replica's subscribers don't return at once
  backoff = Math.min(backoff * 2, 30000);
}
