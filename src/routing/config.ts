/**
 * The routing configuration file (`config/db_router_tables.json`): its schema,
 * validated with valibot, and how a validated file is merged into the sets.
 *
 * @module
 */
import * as v from "valibot";
import { ConfigError, type ConfigIssue } from "../errors.ts";
import { isIdentifier } from "./identifier.ts";
import {
  DENY_TABLES,
  LOCAL_TABLES,
  type Provenance,
  type RoutingLayer,
  SHARED_TABLES,
} from "./tables.ts";

const TableNameSchema = v.pipe(
  v.string("expected a table name (string)"),
  v.check(
    (name: string) => isIdentifier(name),
    "not a plain SQL identifier (letters, digits and _, not starting with a digit)",
  ),
);

const TableListSchema = v.array(TableNameSchema, "expected an array of table names");

/** The configuration file's shape. Unknown keys are errors, so a typo cannot pass unnoticed. */
const RoutingConfigSchema = v.strictObject(
  {
    shared: v.optional(TableListSchema, []),
    local: v.optional(TableListSchema, []),
    deny: v.optional(TableListSchema, []),
    audit_log: v.optional(v.pipe(v.string("expected a file path"), v.minLength(1, "it is empty"))),
  },
  "expected a JSON object with shared, local, deny and audit_log only",
);

/** What a configuration file may contain. */
export interface RoutingConfigInput {
  /** Tables for the shared database. */
  shared?: string[];
  /** Tables for each instance's local database. */
  local?: string[];
  /** Tables no router may open. */
  deny?: string[];
  /** Path of the audit log; turns auditing on. */
  audit_log?: string;
}

/** A validated configuration, with absent lists as empty arrays. */
export interface RoutingConfigOutput {
  /** Tables for the shared database. */
  readonly shared: readonly string[];
  /** Tables for each instance's local database. */
  readonly local: readonly string[];
  /** Tables no router may open. */
  readonly deny: readonly string[];
  /** Path of the audit log, if the file names one. */
  readonly audit_log?: string;
}

/**
 * Parses and validates the text of a configuration file. Throws a
 * {@linkcode ConfigError} that names `source` and every bad field; nothing is
 * returned, so nothing is applied, unless the whole file is valid.
 *
 * @example
 * ```ts
 * import { parseRoutingConfig } from "./config.ts";
 * parseRoutingConfig('{"shared": ["alerts"]}', "inline").shared; // ["alerts"]
 * ```
 */
export function parseRoutingConfig(text: string, source: string): RoutingConfigOutput {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(source, [{ path: "", message: `malformed JSON: ${reason}` }], { cause });
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError(source, [{ path: "", message: "expected a JSON object" }]);
  }
  const result = v.safeParse(RoutingConfigSchema, data);
  if (!result.success) {
    throw new ConfigError(source, result.issues.map(toConfigIssue));
  }
  const both = result.output.shared.filter((t) => result.output.local.includes(t));
  if (both.length > 0) {
    throw new ConfigError(source, [{
      path: "",
      message: `listed in both shared and local: ${both.join(", ")}`,
    }]);
  }
  const output: RoutingConfigOutput = result.output;
  return Object.freeze(output);
}

/** The three lists of one layer, already validated. */
export interface RoutingLists {
  shared: readonly string[];
  local: readonly string[];
  deny: readonly string[];
}

/**
 * Merges one layer's lists into the routing sets: a table named shared moves
 * out of local and vice versa (the later layer decides), and a denied table
 * leaves both and stays denied whatever a later layer says.
 */
export function applyRoutingLists(lists: RoutingLists, layer: RoutingLayer, source: string): void {
  const provenance: Provenance = { layer, source };
  for (const table of lists.deny) {
    SHARED_TABLES.delete(table);
    LOCAL_TABLES.delete(table);
    DENY_TABLES.addFrom(table, provenance);
  }
  for (const table of lists.shared) {
    if (DENY_TABLES.has(table)) continue;
    LOCAL_TABLES.delete(table);
    SHARED_TABLES.addFrom(table, provenance);
  }
  for (const table of lists.local) {
    if (DENY_TABLES.has(table)) continue;
    SHARED_TABLES.delete(table);
    LOCAL_TABLES.addFrom(table, provenance);
  }
}

function toConfigIssue(issue: v.BaseIssue<unknown>): ConfigIssue {
  const path = issue.path?.map((item) => String(item.key)).join(".") ?? "";
  if (issue.type === "strict_object" && issue.path?.length) {
    return { path, message: "unknown key" };
  }
  return { path, message: `${issue.message} (got ${JSON.stringify(issue.input) ?? "nothing"})` };
}
