/**
 * `npm run demo:browser`: serves the browser demo on http://127.0.0.1:8080/
 * (`PORT` picks another port). Everything comes from this checkout, with no
 * network: the page, its script bundled by esbuild, and sql.js's wasm from
 * `node_modules/sql.js/dist/sql-wasm-browser.wasm`.
 *
 * @module
 */
import process from "node:process";
import { serveDemo } from "./server.ts";

const port = Number(process.env.PORT ?? 8080);
const server = await serveDemo({ port });
console.log(`db-router browser demo: ${server.url}`);
console.log(`open ${server.url}?menace=beta in another tab to see two instances share a database`);
console.log("Ctrl+C stops it");
