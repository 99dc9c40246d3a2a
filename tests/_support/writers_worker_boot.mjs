// Starts writers_worker.ts in a Node worker thread through tsx, whose loader
// (given to the parent with --import) worker threads do not inherit.
import { tsImport } from "tsx/esm/api";
import { workerData } from "node:worker_threads";

await tsImport(workerData.script, import.meta.url);
