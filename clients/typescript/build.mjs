// Builds @csp-commerce/client outside the checkout, packs it, and with --test runs the suite on
// the build (npm run build; npm test). Nothing is written into clients/typescript.
//
// Output in $CSP_TS_BUILD_DIR (default clients/.cache/typescript):
//   package/                              what is packed: package.json (without scripts and
//                                         devDependencies), README.md, src/, dist/src/; plus
//                                         dist/test, dist/examples and a node_modules link for the suite
//   csp-commerce-client-<version>.tgz     `npm install` it in your project
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const source = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.env.CSP_TS_BUILD_DIR ?? join(source, "..", ".cache", "typescript"));
const pkgDir = join(out, "package");
const run = (cmd, args, options = {}) => execFileSync(cmd, args, { stdio: "inherit", ...options });

rmSync(pkgDir, { recursive: true, force: true });
mkdirSync(pkgDir, { recursive: true });
// src, test and examples, type-checked together (tsconfig.json maps @csp-commerce/client to src).
run(process.execPath, [join(source, "node_modules", "typescript", "bin", "tsc"), "-p", join(source, "tsconfig.json"), "--outDir", join(pkgDir, "dist")]);
cpSync(join(source, "src"), join(pkgDir, "src"), { recursive: true });
cpSync(join(source, "README.md"), join(pkgDir, "README.md"));
const manifest = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
delete manifest.scripts;
delete manifest.devDependencies;
writeFileSync(join(pkgDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
// The suite imports the package by its name (the package's own exports) and its dependencies.
symlinkSync(join(source, "node_modules"), join(pkgDir, "node_modules"), "dir");
rmSync(join(out, `csp-commerce-client-${manifest.version}.tgz`), { force: true });
run("npm", ["pack", "--silent", "--pack-destination", out], { cwd: pkgDir, stdio: ["ignore", "ignore", "inherit"] });
console.log(`built ${join(out, `csp-commerce-client-${manifest.version}.tgz`)}`);

if (process.argv.includes("--test")) {
  const tests = readdirSync(join(pkgDir, "dist", "test")).filter((f) => f.endsWith(".test.js")).sort();
  run(process.execPath, ["--test", "--test-reporter=spec", ...tests.map((f) => join(pkgDir, "dist", "test", f))], {
    cwd: pkgDir,
    env: { ...process.env, CSP_TS_SOURCE_DIR: source },
  });
}
