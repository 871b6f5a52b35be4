// Bundles the console into dist/: index.html, app-<hash>.js and app-<hash>.css (names that
// change with their content, so the server lets browsers cache them for good). Deterministic:
// the same sources and lock file give the same bytes (CI rebuilds and fails on a diff).
// Run by build.sh (after npm ci); `node build.mjs --check` type-checks only;
// `node build.mjs --tests=<dir>` bundles the browser tests (test/scenarios.ts) for Node into <dir>.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
const modules = join(root, "node_modules");

// The generated client code lives in clients/typescript/src/gen and imports @bufbuild/protobuf:
// resolve every package from console/node_modules (one copy, the locked version), whatever
// clients/typescript/node_modules holds.
const fromConsole = {
  name: "packages-from-console",
  setup(build) {
    build.onResolve({ filter: /^@(bufbuild|connectrpc)\// }, (args) => {
      if (args.resolveDir.startsWith(root)) return undefined;
      return build.resolve(args.path, { kind: args.kind, resolveDir: root });
    });
  },
};

const tsc = (project) =>
  execFileSync(process.execPath, [join(modules, "typescript", "bin", "tsc"), "-p", join(root, project)], { stdio: "inherit" });

const tests = process.argv.find((a) => a.startsWith("--tests="))?.slice("--tests=".length);
if (tests) {
  tsc("tsconfig.test.json");
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ["test/scenarios.ts"],
    outfile: join(tests, "scenarios.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["playwright-core"],
    logLevel: "warning",
    plugins: [fromConsole],
  });
  process.exit(0);
}

// Type-check first: a type error fails the build.
tsc("tsconfig.json");
if (process.argv.includes("--check")) process.exit(0);

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { app: "src/main.ts" },
  entryNames: "[name]-[hash]",
  outdir: dist,
  bundle: true,
  format: "esm",
  target: ["es2022", "chrome100", "firefox100", "safari15"],
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  metafile: true,
  logLevel: "warning",
  plugins: [fromConsole],
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith(".js"));
const css = outputs.find((f) => f.endsWith(".css"));
if (!js || !css) throw new Error(`esbuild wrote ${outputs.join(", ")}: expected a .js and a .css`);

// The page paints its frame before the script runs; the script fills <main>.
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>csp-commerce console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${css}">
<script type="module" src="${js}"></script>
</head>
<body>
<header id="top"><h1>CSP Commerce</h1></header>
<main id="main"><p>Loading…</p></main>
<p id="status" class="sr-only" role="status" aria-live="polite"></p>
</body>
</html>
`;
writeFileSync(join(dist, "index.html"), html);
for (const f of readdirSync(dist).sort()) console.log(`console/${relative(root, join(dist, f))}`);
