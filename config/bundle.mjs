// Bundles the package's entry (`dist/mod.js`, as tsc emitted it) into:
//
// - `dist/mod.js`: the public exports, re-exported from the core;
// - `dist/chunks/core.js`: everything importing the package runs (one file);
// - `dist/chunks/*.js`: what the code imports with `import()` at first use
//   (browser storage's database and Worker code, the remote drivers, the
//   page-capture probe, the fold, the migration runner, ...).
//
// esbuild's code splitting alone puts the code shared by the entry and a lazy
// chunk into one more chunk per combination: a dozen small modules that the
// entry imports statically, and Node's ES module loader costs more per module
// than the lazy code saved. So the statically imported chunks are bundled
// again, with the entry, into the one core file, which also re-exports their
// internals under prefixed names; the lazy chunks import those from the core.
//
// Each file starts with `// @bun`, so that Bun runs it without transpiling it (step 5).
//
// For Bun, also `dist/bun/` (step 6): the core and its lazy chunks as one CommonJS file
// with JavaScriptCore bytecode, which the Bun that built it loads without parsing, and
// the entries of package.json's "bun" conditions over it.
//
//   node config/bundle.mjs    (after tsc; `npm run build` runs both)
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");
const SPLIT = join(DIST, ".split");
const CHUNKS = join(DIST, "chunks");
const CORE = "core.js";
const BUN_PRAGMA = "// @bun";

const common = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  external: ["sql.js", "async-mutex"],
  mainFields: ["module", "main"],
  logLevel: "warning",
};

rmSync(SPLIT, { recursive: true, force: true });
rmSync(CHUNKS, { recursive: true, force: true });

// 1. esbuild's own split: the entry, its static chunks, and the lazy ones.
const split = await build({
  ...common,
  entryPoints: [join(DIST, "mod.js")],
  splitting: true,
  outdir: SPLIT,
  chunkNames: "chunks/[name]-[hash]",
  metafile: true,
});
const outputs = Object.fromEntries(
  Object.entries(split.metafile.outputs).map(([path, output]) => [resolve(ROOT, path), output]),
);
const entry = join(SPLIT, "mod.js");
const statics = new Set();
const pending = [entry];
while (pending.length > 0) {
  for (const { path, kind, external } of outputs[pending.pop()].imports) {
    const target = resolve(ROOT, path);
    if (kind !== "import-statement" || external || statics.has(target)) continue;
    statics.add(target);
    pending.push(target);
  }
}
const prefixes = new Map([...statics].map((chunk, index) => [basename(chunk), `c${index}$`]));

// 2. The core: the entry and its static chunks in one file, their internals re-exported.
const reexports = [...statics].map((chunk) =>
  `export { ${
    outputs[chunk].exports.map((name) => `${name} as ${prefixes.get(basename(chunk))}${name}`)
      .join(", ")
  } } from ${JSON.stringify(`./${relative(SPLIT, chunk)}`)};`
);
mkdirSync(CHUNKS, { recursive: true });
await build({
  ...common,
  stdin: {
    contents: [`export * from "./mod.js";`, ...reexports].join("\n"),
    resolveDir: SPLIT,
    sourcefile: "core.js",
  },
  outfile: join(CHUNKS, CORE),
  plugins: [{
    name: "lazy-chunks",
    setup(b) {
      // A lazy chunk stays a file of its own, next to the core.
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== "dynamic-import" || !args.path.startsWith(".")) return undefined;
        return { path: `./${basename(resolve(args.resolveDir, args.path))}`, external: true };
      });
    },
  }],
});

// 3. The lazy chunks, importing the static chunks' code from the core.
const fromStatic = /import\s*\{([^}]*)\}\s*from\s*"\.\/(chunk-[\w-]+\.js)";/g;
const bareStatic = /import\s*"\.\/(chunk-[\w-]+\.js)";/g;
for (const name of readdirSync(join(SPLIT, "chunks"))) {
  if (statics.has(join(SPLIT, "chunks", name))) continue;
  const code = readFileSync(join(SPLIT, "chunks", name), "utf8")
    .replace(fromStatic, (whole, names, file) => {
      const prefix = prefixes.get(file);
      if (prefix === undefined) return whole; // another lazy chunk
      const bindings = names.split(",").map((n) => n.trim()).filter(Boolean).map((n) => {
        const [imported, local = imported] = n.split(/\s+as\s+/);
        return `${prefix}${imported} as ${local}`;
      });
      return `import { ${bindings.join(", ")} } from "./${CORE}";`;
    })
    .replace(bareStatic, (whole, file) => prefixes.has(file) ? `import "./${CORE}";` : whole);
  for (const file of prefixes.keys()) {
    if (code.includes(file)) throw new Error(`${name} still refers to ${file}: not rewritten`);
  }
  writeFileSync(join(CHUNKS, name), code);
}

// 4. The entry: the public exports only, from the core.
writeFileSync(
  join(DIST, "mod.js"),
  `export {\n${
    outputs[entry].exports.map((name) => `  ${name},`).join("\n")
  }\n} from "./chunks/${CORE}";\n`,
);
rmSync(SPLIT, { recursive: true, force: true });

// 5. `// @bun` first: Bun runs a file so marked as it is, without its own transpiler. Unmarked, it
// transpiles each file it loads and keeps the result in a cache (`~/.bun/install/cache/@t@`) for
// later starts; a first start (a fresh container, a new version of the package) paid about 14 ms
// more for the core (BENCHMARKS.md, issue 15). Node, Deno, browsers and bundlers read a comment.
for (
  const file of [
    join(DIST, "mod.js"),
    ...readdirSync(CHUNKS).map((name) => join(CHUNKS, name)),
  ]
) {
  writeFileSync(file, `${BUN_PRAGMA}\n${readFileSync(file, "utf8")}`);
}

// 6. Bun: the core as CommonJS compiled to JavaScriptCore bytecode (`bun build --bytecode`; Bun
// makes bytecode for CommonJS only, outside `--compile`). Parsing the 360 KB ES core was most of
// what a first query cost in Bun beyond sql.js itself (BENCHMARKS.md, issue 15). Bytecode holds
// only for the Bun version that made it, so `dist/bun/mod.js`, the entry of package.json's "bun"
// condition, loads it under that version and the ES core under any other (or with
// DB_ROUTER_BUN_BYTECODE=off). The subpaths that import the entry (kysely, drizzle) get copies
// in `dist/bun/src/` that import Bun's entry instead, so that one process holds one core.
const BUN_DIR = join(DIST, "bun");
const STAGE = join(DIST, ".bun-stage");
rmSync(BUN_DIR, { recursive: true, force: true });
rmSync(STAGE, { recursive: true, force: true });
mkdirSync(STAGE, { recursive: true });
const bun = join(ROOT, "node_modules", ".bin", process.platform === "win32" ? "bun.exe" : "bun");
const bunVersion = execFileSync(bun, ["--version"], { encoding: "utf8" }).trim();
// CommonJS has no `import.meta`: the core's two uses (where sql.js is) in their CommonJS form.
const COMMONJS_FORMS = [
  [
    'import.meta.resolve("sql.js")',
    'require("node:url").pathToFileURL(require.resolve("sql.js")).href',
  ],
  ["createRequire(import.meta.url)", "createRequire(__filename)"],
];
for (const name of readdirSync(CHUNKS)) {
  let code = readFileSync(join(CHUNKS, name), "utf8");
  if (name === CORE) {
    for (const [from, to] of COMMONJS_FORMS) {
      if (code.split(from).length !== 2) throw new Error(`core: expected one ${from}`);
      code = code.replace(from, to);
    }
  }
  if (code.includes("import.meta")) {
    throw new Error(`${name}: an import.meta with no CommonJS form in config/bundle.mjs`);
  }
  writeFileSync(join(STAGE, name), code);
}
execFileSync(bun, [
  "build",
  "--bytecode",
  "--format=cjs",
  "--target=bun",
  "--external=sql.js",
  "--external=async-mutex",
  `--outdir=${BUN_DIR}`,
  "--entry-naming=[name].cjs",
  join(STAGE, CORE),
], { stdio: ["ignore", "ignore", "inherit"] });
rmSync(STAGE, { recursive: true, force: true });
for (const file of ["core.cjs", "core.cjs.jsc"]) {
  if (!existsSync(join(BUN_DIR, file))) throw new Error(`bun build wrote no dist/bun/${file}`);
}
// Named exports of a CommonJS module are copies: a binding that changes (`export let`) is kept
// live by the core's own notice (see src/router/global.ts).
const LIVE = ["GLOBAL_ROUTER"];
const publicNames = outputs[entry].exports;
for (const name of LIVE) {
  if (!publicNames.includes(name)) throw new Error(`${name} is no longer exported: update LIVE`);
}
// No `// @bun` on this one: Bun's transpiler gives an ES module its `require` (the file is 2 KB).
writeFileSync(
  join(BUN_DIR, "mod.js"),
  `// db-router in Bun (package.json's "bun" condition): the core compiled to bytecode by Bun
// ${bunVersion} (./core.cjs and ./core.cjs.jsc) under that version; the ES core otherwise, or with
// DB_ROUTER_BUN_BYTECODE=off. Built by config/bundle.mjs.
const BYTECODE_BUN = ${JSON.stringify(bunVersion)};
// Named through a constant, so that a bundler (bun build, --compile) does not follow it: Bun's
// CommonJS output is a function that only Bun's loader calls, so a bundle takes the ES core.
const BYTECODE_CORE = "./core.cjs";
function bytecodeCore() {
  if (globalThis.Bun?.version !== BYTECODE_BUN) return undefined;
  if (globalThis.process?.env?.DB_ROUTER_BUN_BYTECODE === "off") return undefined;
  try {
    const core = require(BYTECODE_CORE);
    return typeof core?.DBRouter === "function" ? core : undefined;
  } catch {
    return undefined; // not beside this file (a bundle): the ES core
  }
}
const core = bytecodeCore() ?? require("../chunks/${CORE}");
export const {
${publicNames.filter((name) => !LIVE.includes(name)).map((name) => `  ${name},`).join("\n")}
} = core;
${LIVE.map((name) => `export let ${name} = core.${name};`).join("\n")}
(globalThis[Symbol.for("db-router.globalRouterChanged")] ??= new Set()).add((router, Router) => {
  if (Router === core.DBRouter) GLOBAL_ROUTER = router;
});
`,
);
// The subpaths that import the package's entry, copied for Bun: an import of `dist/mod.js` becomes
// one of `dist/bun/mod.js`; every other relative import keeps its target in `dist/src/`.
const SRC = join(DIST, "src");
const BUN_SRC = join(BUN_DIR, "src");
// Static imports and re-exports at the start of a line (not the examples in doc comments).
const relativeImport = /^((?:import|export)\b[^;]*?\bfrom\s*)"(\.{1,2}\/[^"]+)"/gm;
const importsOf = (file) =>
  [...readFileSync(file, "utf8").matchAll(relativeImport)].map((m) => resolve(dirname(file), m[2]));
const needsCopy = new Map();
const copied = (file) => {
  if (needsCopy.has(file)) return needsCopy.get(file);
  needsCopy.set(file, false); // an import cycle: settled by the others
  const result = importsOf(file).some((target) =>
    target === join(DIST, "mod.js") || (target.startsWith(SRC) && copied(target))
  );
  needsCopy.set(file, result);
  return result;
};
for (const entryFile of [join(SRC, "kysely", "mod.js"), join(SRC, "drizzle", "mod.js")]) {
  if (!copied(entryFile)) throw new Error(`${entryFile} does not import the entry: no Bun copy`);
}
for (const [file, copy] of needsCopy) {
  if (!copy) continue;
  const target = join(BUN_SRC, relative(SRC, file));
  const code = readFileSync(file, "utf8").replace(relativeImport, (_whole, head, specifier) => {
    const to = resolve(dirname(file), specifier);
    const mapped = to === join(DIST, "mod.js")
      ? join(BUN_DIR, "mod.js")
      : needsCopy.get(to)
      ? join(BUN_SRC, relative(SRC, to))
      : to;
    let path = relative(dirname(target), mapped).split(sep).join("/");
    if (!path.startsWith(".")) path = `./${path}`;
    return `${head}"${path}"`;
  });
  if (/\bimport\s*\(\s*["'`]\./.test(code.replace(/\/\*[\s\S]*?\*\//g, ""))) {
    throw new Error(`${file}: a relative import() that the Bun copy does not map`);
  }
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, code);
}
// No copy may lead back to the ES entry through a module left in `dist/src/` (a second core).
for (const [file, copy] of needsCopy) {
  if (!copy) continue;
  for (const target of importsOf(join(BUN_SRC, relative(SRC, file)))) {
    if (target.startsWith(SRC) && importsOf(target).includes(join(DIST, "mod.js"))) {
      throw new Error(`${file}: its Bun copy imports ${target}, which imports dist/mod.js`);
    }
  }
}
