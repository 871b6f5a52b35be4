// WatchCatalogChanges: a subscriber cut off in the middle of the replay resumes after the last
// revision it saw and, through a month published while it listens, misses nothing and sees
// nothing twice; and the README's subscriber (examples/watch.ts). On a server of its own (as every
// file here), which sends progress every 200 ms when idle.
//
// The demo month the server seeds at start is the first month published, which writes no change
// event: the log starts empty at revision 0. Before the tests, the server publishes months to
// replay: 2026-12 (280 changes on the demo data), then the 2026-11 files again as 2027-01 (247
// changes back): 527 changes, at least two batches (at most 500 each). The month published live
// is the 2026-12 files again, as 2027-02.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";

import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import {
  CatalogAdminService,
  CatalogService,
  type WatchCatalogChangesRequest,
  type WatchCatalogChangesResponse,
} from "@csp-commerce/client";

import { BUILD_ROOT, PACKAGE_ROOT, REPO_ROOT, requestId, startServer, type TestServer } from "./server.js";

const DEMO = join(REPO_ROOT, "data", "demo");
const NOVEMBER = join(DEMO, "2026-11");
const DECEMBER = join(DEMO, "2026-12");
// The months published before the tests, for the replay: [month, the demo folder of its files].
const REPLAYED: [string, string][] = [
  ["2026-12", DECEMBER],
  ["2027-01", NOVEMBER],
];
const MARKETS = ["US", "DE", "FR", "GB", "IE", "JP", "SK"];
// How long one read of a stream may take, so a stall fails the test instead of hanging it.
const READ_TIMEOUT_MS = 15_000;

type Start = WatchCatalogChangesRequest["start"];

/** A subscription read one message at a time, each within READ_TIMEOUT_MS, cancelled from this
 * side with cancel(). (No `timeoutMs` call option: its timer outlives a cancelled call and keeps
 * node running until it fires.) */
function watch(catalog: Client<typeof CatalogService>, start: Start) {
  const controller = new AbortController();
  const messages = catalog.watchCatalogChanges({ start }, { signal: controller.signal })[Symbol.asyncIterator]();
  return {
    async next(): Promise<WatchCatalogChangesResponse["event"]> {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, fail) => {
        timer = setTimeout(() => {
          controller.abort();
          fail(new Error(`no message within ${READ_TIMEOUT_MS} ms`));
        }, READ_TIMEOUT_MS);
      });
      try {
        const { value, done } = await Promise.race([messages.next(), stalled]);
        assert.ok(!done, "the stream ended");
        return value.event;
      } finally {
        clearTimeout(timer);
      }
    },
    cancel: () => controller.abort(),
  };
}

/** `seen` is 1..=last in order: no gap, no duplicate. */
function assertExactly(seen: bigint[], last: bigint): void {
  const expected = Array.from({ length: Number(last) }, (_, i) => BigInt(i + 1));
  if (seen.length === expected.length && seen.every((r, i) => r === expected[i])) return;
  const counts = new Map<bigint, number>();
  for (const r of seen) counts.set(r, (counts.get(r) ?? 0) + 1);
  const duplicates = [...counts].filter(([, n]) => n > 1).map(([r]) => r);
  const missing = expected.filter((r) => !counts.has(r));
  const unordered = seen.flatMap((r, i) => (i > 0 && r <= seen[i - 1] ? [[seen[i - 1], r]] : []));
  assert.fail(
    `${seen.length} revisions, expected 1..=${last}: duplicates ${duplicates.slice(0, 20)}, ` +
      `missing ${missing.slice(0, 20)}, out of order ${JSON.stringify(unordered.slice(0, 20).map(String))}, ` +
      `beyond ${seen.filter((r) => r > last).slice(0, 20)}`,
  );
}

/** Imports the demo files of `folder` as `month` (ImportMonth: paths under the server's import
 * folder) and publishes it. */
async function publish(server: TestServer, month: string, folder: string) {
  const admin = createClient(CatalogAdminService, server.transport({ partner: "", role: "catalog_admin" }));
  const options = { timeoutMs: READ_TIMEOUT_MS };
  await admin.importMonth(
    {
      requestId: requestId(),
      month,
      offerMatrixPath: join(folder, "offer-matrix.csv"),
      priceListPaths: MARKETS.map((m) => join(folder, `pricelist-${m}.csv`)),
    },
    options,
  );
  return admin.publishMonth({ requestId: requestId(), month }, options);
}

describe("catalog changes", () => {
  let server: TestServer;
  before(async () => {
    // ImportMonth reads paths only under the server's import folder.
    server = await startServer({ CSP_WATCH_PROGRESS_INTERVAL_MS: "200", CSP_IMPORT_DIR: DEMO });

    // The seeded month wrote no change: from revision 0 the stream is caught up at once, at 0.
    const empty = watch(server.clients().catalog, { case: "afterRevision", value: 0n });
    const event = await empty.next();
    empty.cancel();
    assert.equal(event.case, "progress");
    assert.equal(event.value.currentRevision, 0n);

    let last = 0n;
    for (const [month, folder] of REPLAYED) {
      const published = await publish(server, month, folder);
      assert.equal(published.firstRevision, last + 1n, month);
      assert.ok(published.lastRevision > published.firstRevision, month);
      last = published.lastRevision;
    }
    // PublishMonth returns once the month is stored; the server's feed reads it from the log just
    // after (a stream started before may report progress at the previous head, then get the month
    // live). Wait until the feed has it, so the replay below is the whole log.
    const deadline = Date.now() + READ_TIMEOUT_MS;
    for (;;) {
      const now = watch(server.clients().catalog, { case: "fromNow", value: true });
      const progress = await now.next();
      now.cancel();
      assert.equal(progress.case, "progress");
      if (progress.value.currentRevision >= last) break;
      assert.ok(Date.now() < deadline, `the feed is at ${progress.value.currentRevision}, not at ${last}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  after(() => server?.stop());

  it("resumes a subscriber cut off mid-replay without loss or duplicate", async () => {
    const { catalog } = server.clients();
    const seen: bigint[] = [];

    // From the beginning (the REPLAYED months' 527 changes, two batches or more); hang up after
    // the first batch, in the middle of the replay.
    const first = watch(catalog, { case: "afterRevision", value: 0n });
    const event = await first.next();
    assert.equal(event.case, "changes", "no change to replay");
    assert.ok(event.value.changes.length > 0 && event.value.changes.length <= 500);
    seen.push(...event.value.changes.map((c) => c.revision));
    first.cancel();
    await assert.rejects(
      async () => {
        for (;;) await first.next();
      },
      (e) => ConnectError.from(e).code === Code.Canceled,
    );
    const cut = seen[seen.length - 1];

    // Resume after the last revision seen: the rest of the replay, then progress.
    const resumed = watch(catalog, { case: "afterRevision", value: cut });
    try {
      let event = await resumed.next();
      for (; event.case === "changes"; event = await resumed.next()) {
        seen.push(...event.value.changes.map((c) => c.revision));
      }
      assert.equal(event.case, "progress");
      const head = event.value.currentRevision;
      assert.ok(cut < head, `cut off at ${cut}, which was not in the middle of the replay (head ${head})`);
      assertExactly(seen, head);

      // A month published while subscribed arrives live (the 2026-12 files again).
      const published = await publish(server, "2027-02", DECEMBER);
      assert.equal(published.firstRevision, head + 1n);
      assert.ok(published.lastRevision > published.firstRevision);
      while (seen[seen.length - 1] < published.lastRevision) {
        const live = await resumed.next();
        if (live.case === "changes") seen.push(...live.value.changes.map((c) => c.revision));
        // Idle progress: never ahead of what was delivered.
        else assert.equal(live.value?.currentRevision, seen[seen.length - 1]);
      }
      assertExactly(seen, published.lastRevision);
    } finally {
      resumed.cancel();
    }
  });

  it("runs the watch example: replay, then caught up", async () => {
    const now = watch(server.clients().catalog, { case: "fromNow", value: true });
    const event = await now.next();
    now.cancel();
    assert.equal(event.case, "progress");
    const head = event.value.currentRevision;
    assert.ok(head > 3n);

    const example = join(BUILD_ROOT, "dist", "examples", "watch.js");
    const child = spawn(process.execPath, [example, String(head - 3n)], {
      env: { ...process.env, CSP_ADDR: server.address, CSP_TOKEN: server.token("us", "sales_agent") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const out: string[] = [];
    const timer = setTimeout(() => child.kill(), READ_TIMEOUT_MS);
    try {
      for await (const line of createInterface({ input: child.stdout })) {
        out.push(line);
        if (line.startsWith("caught up")) break;
      }
    } finally {
      clearTimeout(timer);
      child.kill();
    }
    assert.ok(out.at(-1)?.startsWith("caught up"), `the example stopped: ${out.join("\n")}\n${stderr}`);
    assert.deepEqual(
      out.slice(0, -1).map((l) => l.split(" ")[0]),
      [head - 2n, head - 1n, head].map(String),
      out.join("\n"),
    );
    assert.ok(out.slice(0, -1).every((l) => ["ADDED", "CHANGED", "ENDED"].includes(l.split(" ")[1])), out.join("\n"));
    assert.equal(out.at(-1), `caught up at ${head}`);
  });
});

describe("clients/README.md", () => {
  it("shows examples/watch.ts verbatim", () => {
    const example = readFileSync(join(PACKAGE_ROOT, "examples", "watch.ts"), "utf8");
    const readme = readFileSync(join(PACKAGE_ROOT, "..", "README.md"), "utf8");
    assert.ok(readme.includes(example), "copy examples/watch.ts into clients/README.md");
  });
});
