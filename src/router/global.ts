/**
 * The process-wide router of the spec: `initDbRouter` creates it at start-up
 * and modules reach it through `GLOBAL_ROUTER` without dependency injection.
 *
 * @module
 */
import type { SharedBackend } from "../engine/backend.ts";
import type { DBRouterOptions } from "./options.ts";
import { DBRouter, routerClosedListeners } from "./router.ts";

/**
 * The router that the last {@linkcode initDbRouter} call created, or
 * `undefined` before the first call and after that router is closed. A live
 * binding: importers see updates.
 *
 * @example
 * ```ts
 * import { GLOBAL_ROUTER, initDbRouter } from "../../mod.ts";
 * const router = GLOBAL_ROUTER ?? initDbRouter("alpha");
 * ```
 */
export let GLOBAL_ROUTER: DBRouter | undefined;

/**
 * Where entries that re-export {@linkcode GLOBAL_ROUTER} without a live
 * binding hear its changes: Bun's entry, over the core's CommonJS build
 * (`config/bundle.mjs`), whose named exports are copies. A `Set` of
 * functions on `globalThis` under this symbol; each is called with the new
 * value and this core's `DBRouter`, so that an entry listens to its own core
 * only (a process may hold another copy of db-router).
 */
const GLOBAL_ROUTER_CHANGED = Symbol.for("db-router.globalRouterChanged");

function setGlobalRouter(router: DBRouter | undefined): void {
  GLOBAL_ROUTER = router;
  const listeners = (globalThis as Record<symbol, unknown>)[GLOBAL_ROUTER_CHANGED];
  if (!(listeners instanceof Set)) return;
  for (const hear of listeners) {
    if (typeof hear === "function") hear(router, DBRouter);
  }
}

routerClosedListeners.add((router) => {
  if (GLOBAL_ROUTER === router) setGlobalRouter(undefined);
});

/**
 * Creates a router and makes it {@linkcode GLOBAL_ROUTER}. Entry points call it
 * once at start-up, before modules that use the database. A second call
 * replaces the global router without closing the first.
 *
 * @example
 * ```ts
 * import { initDbRouter } from "../../mod.ts";
 * const router = initDbRouter("alpha");
 * await router.close();
 * ```
 */
export function initDbRouter(
  menaceId: string,
  localDbPath?: string,
  sharedDbPath?: string | SharedBackend,
  options?: DBRouterOptions,
): DBRouter {
  const router = new DBRouter(menaceId, localDbPath, sharedDbPath, options);
  setGlobalRouter(router);
  return router;
}

/**
 * Returns {@linkcode GLOBAL_ROUTER}, for callers that cannot import a live
 * binding (CommonJS interop, some bundlers).
 *
 * @example
 * ```ts
 * import { getGlobalRouter } from "../../mod.ts";
 * getGlobalRouter(); // undefined until initDbRouter() runs
 * ```
 */
export function getGlobalRouter(): DBRouter | undefined {
  return GLOBAL_ROUTER;
}
