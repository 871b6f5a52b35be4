// The README's example (examples/quickstart.ts, compiled to dist/examples of the build), run as a user would.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";

import { BUILD_ROOT, PACKAGE_ROOT, startServer, type TestServer } from "./server.js";

describe("quickstart", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.stop());

  it("runs against the server", async () => {
    const example = join(BUILD_ROOT, "dist", "examples", "quickstart.js");
    const { stdout } = await promisify(execFile)(process.execPath, [example], {
      env: { ...process.env, CSP_ADDR: server.address, CSP_TOKEN: server.token("us", "sales_agent") },
      timeout: 60_000,
    });
    const lines = stdout.split("\n");
    // 1. the offers (catalog item, title, term, exact price), 2. the review, 3. the order, 4. history.
    const review = lines.findIndex((l) => l.startsWith("review "));
    assert.ok(review >= 1 && review <= 3, stdout);
    for (const offer of lines.slice(0, review)) {
      assert.match(offer, /^CFQ7TTC\w+:\w+:\w+ .+ [A-Z0-9]+ [A-Z_]+ \d+\.\d{2,9} USD$/);
    }
    assert.ok(lines[review].startsWith("review [] total "), stdout);
    const order = /^order (ORD-\S+) (\d+\.\d{2,9} USD)$/.exec(lines[review + 1]);
    assert.ok(order, stdout);
    assert.ok(lines[review].endsWith(` ${order[2]}`), "the order's total is the review's");
    assert.ok(lines.slice(review + 2).includes(`history ${order[1]} ${order[2]}`), stdout);
  });
});

describe("clients/README.md", () => {
  it("shows examples/quickstart.ts verbatim", () => {
    const example = readFileSync(join(PACKAGE_ROOT, "examples", "quickstart.ts"), "utf8");
    const readme = readFileSync(join(PACKAGE_ROOT, "..", "README.md"), "utf8");
    assert.ok(readme.includes(example), "copy examples/quickstart.ts into clients/README.md");
  });
});
