/**
 * What serves a browser page of db-router, with no network beyond localhost:
 * an esbuild bundle of the page's TypeScript (with sql.js's `browser` build),
 * sql.js's wasm binary straight from `node_modules`, and a small `node:http`
 * server for them. `npm run demo:browser` (`serve.ts`) and the browser tests
 * use it.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** The repository's root folder. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** sql.js's wasm binary for browsers, as installed by npm. */
export const SQL_WASM_FILE: string = join(ROOT, "node_modules/sql.js/dist/sql-wasm-browser.wasm");

/** One file the server answers with. */
export interface Asset {
  /** Its `Content-Type`. */
  readonly type: string;
  /** Its bytes or text. */
  readonly body: string | Uint8Array;
}

/** A running server. */
export interface PageServer {
  /** Its base URL, such as `http://127.0.0.1:8080/`. */
  readonly url: string;
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Bundles the TypeScript module `entry` for browsers, as one ES module.
 *
 * @example
 * ```ts ignore
 * const script = await bundle("examples/browser/main.ts");
 * ```
 */
export async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // sql.js's "browser" export: dist/sql-wasm-browser.js, which fetches sql-wasm-browser.wasm.
    conditions: ["browser"],
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

/**
 * Serves `assets` by path (`"/"` for the page) on `host:port` (port 0 picks a
 * free one); every other path is a 404.
 *
 * @example
 * ```ts ignore
 * const server = await serveAssets({ "/": { type: "text/html", body: "<p>hi</p>" } });
 * await server.close();
 * ```
 */
export async function serveAssets(
  assets: Record<string, Asset>,
  options: { port?: number; host?: string } = {},
): Promise<PageServer> {
  const host = options.host ?? "127.0.0.1";
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const asset = assets[path];
    if (!asset) {
      response.writeHead(404, { "Content-Type": "text/plain" }).end(`Not found: ${path}`);
      return;
    }
    response.writeHead(200, { "Content-Type": asset.type, "Cache-Control": "no-store" });
    response.end(asset.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    // A loopback address is a secure context, so Web Locks exist there.
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * The assets of a page whose script is `entry`: `/` (the HTML file `html`),
 * `/main.js` and `/sql-wasm-browser.wasm`.
 *
 * @example
 * ```ts ignore
 * const server = await serveAssets(await pageAssets("examples/browser/index.html", "examples/browser/main.ts"));
 * ```
 */
export async function pageAssets(html: string, entry: string): Promise<Record<string, Asset>> {
  const [page, script, wasm] = await Promise.all([
    readFile(join(ROOT, html), "utf8"),
    bundle(entry),
    readFile(SQL_WASM_FILE),
  ]);
  return {
    "/": { type: "text/html; charset=utf-8", body: page },
    "/main.js": { type: "text/javascript; charset=utf-8", body: script },
    "/sql-wasm-browser.wasm": { type: "application/wasm", body: new Uint8Array(wasm) },
  };
}

/**
 * Bundles the demo (`index.html`, `main.ts`) and serves it, with its icon
 * (`favicon.svg`), on `port` (0 picks a free one): what `npm run demo:browser`
 * runs.
 *
 * @example
 * ```ts ignore
 * const server = await serveDemo({ port: 0 });
 * console.log(server.url);
 * await server.close();
 * ```
 */
export async function serveDemo(options: { port?: number } = {}): Promise<PageServer> {
  const assets = await pageAssets("examples/browser/index.html", "examples/browser/main.ts");
  const icon: Asset = {
    type: "image/svg+xml",
    body: await readFile(join(ROOT, "examples/browser/favicon.svg"), "utf8"),
  };
  // The page links /favicon.svg; /favicon.ico is where browsers look without a link.
  assets["/favicon.svg"] = icon;
  assets["/favicon.ico"] = icon;
  return await serveAssets(assets, { port: options.port ?? 8080 });
}
