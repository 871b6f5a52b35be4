// Starts the REAL csp-commerce binary on a free port with a fresh SQLite database (the demo
// catalog and partners load into it), waits until grpc.health.v1 Check answers SERVING, and
// mints tokens with `csp-commerce token`. One server per test file (node --test runs each file
// in its own process): call startServer() in before() and stop() in after(). startServer({...})
// passes further CSP_* settings (e.g. CSP_WATCH_PROGRESS_INTERVAL_MS) to the server.
//
// Env: CSP_BIN (default: target/debug/csp-commerce relative to the repository root).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  CartService,
  CatalogService,
  CustomerService,
  Health,
  HealthCheckResponse_ServingStatus,
  OrderService,
} from "@csp-commerce/client";

// The build (build.mjs: clients/.cache/typescript/package), whose dist/ holds the compiled tests
// and examples; the sources (clients/typescript, from build.mjs), and the repository root.
export const BUILD_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const PACKAGE_ROOT = resolve(process.env.CSP_TS_SOURCE_DIR ?? BUILD_ROOT);
export const REPO_ROOT = resolve(PACKAGE_ROOT, "..", "..");
const JWT_SECRET = "typescript-client-tests-secret-0123456789";
const STARTUP_TIMEOUT_MS = 60_000;

export function serverBinary(): string {
  const bin = process.env.CSP_BIN ?? "target/debug/csp-commerce";
  const path = isAbsolute(bin) ? bin : join(REPO_ROOT, bin);
  if (!existsSync(path)) {
    throw new Error(`csp-commerce binary not found at ${path}: run \`cargo build --bin csp-commerce\` or set CSP_BIN`);
  }
  return path;
}

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

/** The caller's environment without any CSP_* or OTLP setting, plus `extra`. */
function serverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("CSP_") && !k.startsWith("OTEL_")) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Adds `authorization: Bearer <token>` to every call of a transport. */
export function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

/** A fresh idempotency key for a write: a retry with the same one is applied once. */
export const requestId = (): string => randomUUID();

export class TestServer {
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly binary: string,
    readonly address: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly logPath: string,
    /** Set when the server speaks TLS (CSP_TLS_*): the CA a client trusts it with. */
    readonly ca?: Buffer,
  ) {}

  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, "utf8") : "";
  }

  /** A bearer token minted by `csp-commerce token` with the server's secret. */
  token(partner = "us", role = "sales_agent"): string {
    const key = `${partner}/${role}`;
    let token = this.tokens.get(key);
    if (!token) {
      const args = ["token", "--role", role, ...(partner ? ["--partner", partner] : [])];
      token = execFileSync(this.binary, args, { env: this.env, encoding: "utf8" }).trim();
      this.tokens.set(key, token);
    }
    return token;
  }

  /** A gRPC transport (HTTP/2) carrying the token of `partner` and `role`, or none. */
  transport(auth: { partner: string; role: string } | null = { partner: "us", role: "sales_agent" }): Transport {
    return createGrpcTransport({
      baseUrl: `${this.ca ? "https" : "http"}://${this.address}`,
      nodeOptions: this.ca ? { ca: this.ca } : undefined,
      interceptors: auth ? [bearer(this.token(auth.partner, auth.role))] : [],
    });
  }

  /** The four services as partner `us`, role sales_agent. */
  clients(transport: Transport = this.transport()): {
    catalog: Client<typeof CatalogService>;
    customers: Client<typeof CustomerService>;
    carts: Client<typeof CartService>;
    orders: Client<typeof OrderService>;
  } {
    return {
      catalog: createClient(CatalogService, transport),
      customers: createClient(CustomerService, transport),
      carts: createClient(CartService, transport),
      orders: createClient(OrderService, transport),
    };
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

/** `ca`: the CA a client trusts when `extraEnv` sets CSP_TLS_*. */
export async function startServer(extraEnv: Record<string, string> = {}, ca?: Buffer): Promise<TestServer> {
  const binary = serverBinary();
  const dir = mkdtempSync(join(tmpdir(), "csp-commerce-ts-"));
  const address = `127.0.0.1:${await freePort()}`;
  const env = serverEnv({
    CSP_LISTEN: address,
    CSP_DATABASE_URL: `sqlite://${dir}/x.sqlite`,
    CSP_JWT_SECRET: JWT_SECRET,
    CSP_LOG: "warn",
    // No balancer to tell: stop without the drain grace.
    CSP_DRAIN_GRACE_MS: "0",
    ...extraEnv,
  });
  const logPath = join(dir, "server.log");
  const log = openSync(logPath, "w");
  const child = spawn(binary, [], { env, stdio: ["ignore", log, log] });
  closeSync(log);
  const server = new TestServer(binary, address, env, child, dir, logPath, ca);
  try {
    await waitUntilServing(server, child);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

async function waitUntilServing(server: TestServer, child: ChildProcess): Promise<void> {
  const health = createClient(Health, server.transport(null));
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`csp-commerce exited (${child.exitCode ?? child.signalCode}):\n${server.log()}`);
    }
    try {
      const reply = await health.check({}, { timeoutMs: 1000 });
      if (reply.status === HealthCheckResponse_ServingStatus.SERVING) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`csp-commerce not serving after ${STARTUP_TIMEOUT_MS} ms:\n${server.log()}`);
    }
    await sleep(100);
  }
}
