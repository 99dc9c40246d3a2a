/**
 * `db-router tables`: every table the routing sets name, where it goes, and
 * which layer decided (built-in default, config file, env variable), as the
 * library sees it when imported in the current directory and environment.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { RouteExplanation } from "../../routing/explain.ts";
import { type Command, type CommandIO, usageErrorOf } from "../command.ts";

const USAGE = `Usage: db-router tables [--json]

Lists every table in SHARED_TABLES, LOCAL_TABLES and DENY_TABLES, its route
(shared, local, denied, ambiguous) and the layer that decided it: "default"
(built in), "config" (the file named by DB_ROUTER_CONFIG, else
config/db_router_tables.json in the current directory) or "env"
(DB_ROUTER_SHARED_TABLES, DB_ROUTER_LOCAL_TABLES, DB_ROUTER_DENY_TABLES), with
the file or variable. Tables that code adds at run time are not known here.

Options:
  --json      print {"configFile": ..., "tables": [{table, route, layer, source?, reason}]}
  -h, --help  show this help

Exit status: 0; 1 when the config file or environment is invalid (the error
names the file or variable and each bad field); 2 on bad usage.
`;

/** The `tables` subcommand. */
export const tablesCommand: Command = {
  name: "tables",
  summary: "list the routing table: every table, its route and where that was decided",
  usage: USAGE,
  async run(args: string[], io: CommandIO): Promise<number> {
    const { values } = parse(args);
    // Imported here, not at the top: importing the library loads and validates
    // the routing config, and a bad config must not break the other commands.
    const library = await import("../../../mod.ts");
    const names = new Set([
      ...library.SHARED_TABLES,
      ...library.LOCAL_TABLES,
      ...library.DENY_TABLES,
    ]);
    const rows = [...names].sort().map((table) => library.explainRoute(table));
    const configFile = library.ROUTING_STARTUP.configFile ?? null;
    if (values.json) {
      io.out(`${JSON.stringify({ configFile, tables: rows }, null, 2)}\n`);
      return 0;
    }
    io.out(formatTable(rows));
    io.out(`\n${summarise(rows)}\nConfig file: ${configFile ?? "none"}\n`);
    return 0;
  },
};

/**
 * Lays `rows` out in aligned columns under a header.
 *
 * @example
 * ```ts
 * import { formatTable } from "./tables.ts";
 * formatTable([{ table: "bots", route: "shared", layer: "default", reason: "" }]);
 * // "TABLE  ROUTE   LAYER    SOURCE\nbots   shared  default\n"
 * ```
 */
export function formatTable(rows: readonly RouteExplanation[]): string {
  const cells = [
    ["TABLE", "ROUTE", "LAYER", "SOURCE"],
    ...rows.map((r) => [r.table, r.route, r.layer ?? "-", r.source ?? ""]),
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...cells.map((row) => row[column].length)));
  return cells
    .map((row) =>
      row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join("  ").trimEnd()
    )
    .join("\n") + "\n";
}

function summarise(rows: readonly RouteExplanation[]): string {
  const count = (route: string) => rows.filter((r) => r.route === route).length;
  const parts = [
    `${count("shared")} shared`,
    `${count("local")} local`,
    `${count("denied")} denied`,
  ];
  const ambiguous = count("ambiguous");
  if (ambiguous > 0) parts.push(`${ambiguous} ambiguous`);
  return `${rows.length} tables: ${parts.join(", ")}`;
}

function parse(args: string[]) {
  try {
    return parseArgs({ args, strict: true, options: { json: { type: "boolean" } } });
  } catch (error) {
    throw usageErrorOf(error);
  }
}
