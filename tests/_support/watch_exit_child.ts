/**
 * A process that watches a shared file and then exits without closing its
 * router, for the watchers' registry test: `SHARED LOCAL`. Prints
 * `registered` once its registration is visible, then exits normally.
 *
 * @module
 */
import { DBRouter } from "../../mod.ts";
import { fileStorageFor, RUNTIME } from "./storage_fixtures.ts";

const [shared, local] = process.argv.slice(2);
const router = new DBRouter("leaver", local, shared, { storage: fileStorageFor(RUNTIME) });
router.watch("bots", () => {});
// A read settles once the registration is made.
await router.getConnection("bots").all("SELECT 1");
console.log("registered");
process.exit(0);
