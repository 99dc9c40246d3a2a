// The Worker's entry (wrangler.toml `main`). Workers may not compile
// WebAssembly from bytes, so the bundler imports sql.js's wasm binary as a
// compiled module, which the router's sql.js engine then instantiates.
// Plain JavaScript: `deno check` cannot load a .wasm import.
import sqlWasm from "sql.js/dist/sql-wasm-browser.wasm";
import { setWasmModule } from "../../mod.ts";
import worker from "./worker.ts";

setWasmModule(sqlWasm);

export default worker;
