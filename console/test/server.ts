// The REAL csp-commerce binary (CSP_BIN) on a free loopback port with a fresh SQLite database
// (the demo catalog, partners and customers load into it), its import folder the demo data (so
// a month can be imported and published during a test), the development secret (on loopback:
// the console's dev sign-in exists), tokens minted by `csp-commerce token`, and
// clients over gRPC-Web (HTTP/1.1, the browser's protocol) for what a second party does.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

import { CartService } from "../../clients/typescript/src/gen/csp/commerce/v1/cart_pb.js";
import { CatalogAdminService } from "../../clients/typescript/src/gen/csp/commerce/v1/catalog_pb.js";

const STARTUP_TIMEOUT_MS = 60_000;

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => ok(port));
    });
  });
}

export class Server {
  private readonly tokens = new Map<string, string>();
  constructor(
    readonly binary: string,
    readonly url: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  log(): string {
    const path = join(this.dir, "server.log");
    return existsSync(path) ? readFileSync(path, "utf8") : "";
  }

  token(partner: string, role: string): string {
    const key = `${partner}/${role}`;
    let token = this.tokens.get(key);
    if (!token) {
      const args = ["token", "--role", role, ...(partner ? ["--partner", partner] : [])];
      token = execFileSync(this.binary, args, { env: this.env, encoding: "utf8" }).trim();
      this.tokens.set(key, token);
    }
    return token;
  }

  private transport(partner: string, role: string) {
    const token = this.token(partner, role);
    const bearer: Interceptor = (next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    };
    return createGrpcWebTransport({ baseUrl: this.url, interceptors: [bearer] });
  }

  carts(partner: string): Client<typeof CartService> {
    return createClient(CartService, this.transport(partner, "sales_agent"));
  }

  admin(): Client<typeof CatalogAdminService> {
    return createClient(CatalogAdminService, this.transport("", "catalog_admin"));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((ok) => this.child.once("exit", ok));
      this.child.kill("SIGTERM");
      const killer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startServer(binary: string, importDir: string): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), "csp-console-test-"));
  const address = `127.0.0.1:${await freePort()}`;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("CSP_") && !k.startsWith("OTEL_")) env[k] = v;
  Object.assign(env, {
    CSP_LISTEN: address,
    CSP_DATABASE_URL: `sqlite://${dir}/x.sqlite`,
    CSP_IMPORT_DIR: importDir,
    CSP_WATCH_PROGRESS_INTERVAL_MS: "500",
    CSP_LOG: "warn",
    CSP_DRAIN_GRACE_MS: "0",
  });
  const log = openSync(join(dir, "server.log"), "w");
  const child = spawn(binary, [], { env, stdio: ["ignore", log, log] });
  closeSync(log);
  const server = new Server(binary, `http://${address}`, env, child, dir);
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const text = server.log();
      await server.stop();
      throw new Error(`csp-commerce exited (${child.exitCode ?? child.signalCode}):\n${text}`);
    }
    try {
      const page = await fetch(`${server.url}/`);
      if (page.ok && (await page.text()).includes("app-")) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      const text = server.log();
      await server.stop();
      throw new Error(`csp-commerce did not serve the console at / within ${STARTUP_TIMEOUT_MS} ms:\n${text}`);
    }
    await sleep(100);
  }
}
