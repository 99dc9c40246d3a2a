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
//   node config/bundle.mjs    (after tsc; `npm run build` runs both)
import { build } from "esbuild";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
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
