/**
 * Child of `tests/cli_analyze_memory.test.ts`: runs `analyze --verify`'s scan
 * on the log at `path`, then prints, as JSON, the records and problems it
 * found and V8's committed young generation (`new_space`, bytes).
 *
 * Usage: chain_verify_child.ts <path>
 *
 * @module
 */
import { getHeapSpaceStatistics } from "node:v8";
import { scanAuditLog } from "../../src/cli/analyze/scan.ts";

const result = await scanAuditLog(process.argv[2], { verify: true });
const space = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
console.log(JSON.stringify({
  records: result.records,
  problems: result.verify?.problemCount,
  newSpace: space?.space_size,
}));
