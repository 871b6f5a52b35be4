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
    assert.equal(lines[0], "Fabrikam, Inc. US");
    assert.ok(lines.some((l) => l.startsWith("CFQ7TTC")), stdout);
    assert.ok(lines.some((l) => l.startsWith("customer ")), stdout);
  });
});

describe("clients/README.md", () => {
  it("shows examples/quickstart.ts verbatim", () => {
    const example = readFileSync(join(PACKAGE_ROOT, "examples", "quickstart.ts"), "utf8");
    const readme = readFileSync(join(PACKAGE_ROOT, "..", "README.md"), "utf8");
    assert.ok(readme.includes(example), "copy examples/quickstart.ts into clients/README.md");
  });
});
