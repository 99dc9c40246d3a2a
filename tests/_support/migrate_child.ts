/**
 * A process of the migration race: opens a router whose shared database is
 * `target` (a sql.js file path or a libSQL `file:` URL), prints `ready`,
 * waits until the file `go` exists (so that every runtime starts together),
 * runs `migrate()` with {@linkcode RACE_MIGRATIONS}, and prints its report as
 * JSON.
 *
 * Usage: `<runtime> tests/_support/migrate_child.ts <target> <menace> <localDir> <go>`
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { DBRouter } from "../../mod.ts";
import { RACE_MIGRATIONS } from "./migrate_race.ts";

const [target, menace, localDir, go] = process.argv.slice(2);
await using router = new DBRouter(menace, join(localDir, `${menace}.db`), target);
await router.ready();
console.log("ready");
while (!existsSync(go)) await new Promise((resolve) => setTimeout(resolve, 5));
console.log(JSON.stringify(await router.migrate(RACE_MIGRATIONS)));
