// The entry of tests/_support/audit_worker.ts, bundled like the example Worker's
// (examples/cloudflare-worker/index.js): sql.js's wasm as a compiled module.
import sqlWasm from "sql.js/dist/sql-wasm-browser.wasm";
import { setWasmModule } from "../../mod.ts";
import worker from "./audit_worker.ts";

setWasmModule(sqlWasm);

export default worker;
