/**
 * A D1 database that Miniflare keeps in a folder (as `wrangler dev` and
 * `wrangler d1 execute --local` keep theirs, under `.wrangler/state/v3/d1`),
 * for `db-router sync --d1-local`: Miniflare runs Cloudflare's `workerd`
 * and hands out the database's binding, the only way to reach D1 outside a
 * Worker without Cloudflare's HTTP API. `miniflare` (or `wrangler`, which
 * brings it) must be installed.
 *
 * @module
 */
import type { D1Database } from "../remote/d1.ts";
import { importOptional } from "../optional.ts";

/** What `--d1-local` needs: Miniflare. */
const MINIFLARE_PACKAGE = {
  name: "miniflare",
  range: ">=4",
  purpose: "reach a local D1 database (--d1-local)",
} as const;

interface MiniflareModule {
  Miniflare: new (options: Record<string, unknown>) => {
    getD1Database(binding: string): Promise<unknown>;
    dispose(): Promise<void>;
  };
}

/**
 * Opens the D1 database `databaseId` persisted under `folder`.
 *
 * @example
 * ```ts ignore
 * const local = await openLocalD1(".wrangler/state/v3/d1", "0f2c...");
 * await local.db.prepare("SELECT 1").first();
 * await local.dispose();
 * ```
 */
export async function openLocalD1(
  folder: string,
  databaseId: string,
): Promise<{ db: D1Database; dispose(): Promise<void> }> {
  const { Miniflare } = await importOptional<MiniflareModule>(MINIFLARE_PACKAGE);
  const miniflare = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 404 }); } }",
    compatibilityDate: "2025-09-01",
    d1Databases: { DB: databaseId },
    d1Persist: folder,
  });
  try {
    const db = (await miniflare.getD1Database("DB")) as D1Database;
    return { db, dispose: () => miniflare.dispose() };
  } catch (error) {
    await miniflare.dispose();
    throw error;
  }
}
