/**
 * The name given to `db-router new`, checked and turned into the names the
 * generated files use: table `user_events`, files `user_events_db.ts` and
 * `user_events_db.test.ts`, class `UserEventsDB`, constant `USER_EVENTS_TABLE`.
 *
 * @module
 */
import { UsageError } from "../command.ts";

/** The templates `db-router new` offers. */
export type TemplateName = "basic" | "fts" | "vector";

/** Where the generated module's table goes. */
export type ModuleRoute = "shared" | "local";

/** Everything a template needs to know. */
export interface TemplateContext {
  /** The table, and the base of every other name. */
  table: string;
  /** `UserEventsDB`. */
  className: string;
  /** `UserEventsRecord`: one row as the module returns it. */
  recordType: string;
  /** `USER_EVENTS_TABLE`. */
  tableConstant: string;
  /** `user_events_db.ts`. */
  moduleFile: string;
  /** `user_events_db.test.ts`. */
  testFile: string;
  /** The specifier the generated files import the library from. */
  library: string;
  /** Where the table goes. */
  route: ModuleRoute;
  /** The template. */
  template: TemplateName;
}

/**
 * Longest name accepted: the FTS template adds up to 24 characters to it.
 *
 * @example
 * ```ts
 * import { MAX_NAME_LENGTH } from "./names.ts";
 * "user_events".length <= MAX_NAME_LENGTH; // true
 * ```
 */
export const MAX_NAME_LENGTH = 40;

const NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Checks `name` and returns it. A name is lowercase snake case (letters,
 * digits, `_`, starting with a letter), so that one word serves as table,
 * file and class name on every file system; it may not start with `sqlite_`,
 * which SQLite reserves.
 *
 * @example
 * ```ts
 * import { checkModuleName } from "./names.ts";
 * checkModuleName("user_events"); // "user_events"
 * ```
 */
export function checkModuleName(name: string): string {
  if (!NAME.test(name)) {
    throw new UsageError(
      `Invalid name ${
        JSON.stringify(name)
      }: use lowercase letters, digits and _, starting with a letter (it becomes the table name)`,
    );
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new UsageError(`Invalid name "${name}": longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (name.startsWith("sqlite_")) {
    throw new UsageError(`Invalid name "${name}": SQLite reserves names starting with "sqlite_"`);
  }
  return name;
}

/**
 * The names of the generated files and code for table `table`.
 *
 * @example
 * ```ts
 * import { templateContext } from "./names.ts";
 * templateContext("user_events", "basic", "shared", "db-router").className; // "UserEventsDB"
 * ```
 */
export function templateContext(
  table: string,
  template: TemplateName,
  route: ModuleRoute,
  library: string,
): TemplateContext {
  const pascal = table
    .split("_")
    .filter((part) => part.length > 0)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join("");
  return {
    table,
    className: `${pascal}DB`,
    recordType: `${pascal}Record`,
    tableConstant: `${table.toUpperCase()}_TABLE`,
    moduleFile: `${table}_db.ts`,
    testFile: `${table}_db.test.ts`,
    library,
    route,
    template,
  };
}
