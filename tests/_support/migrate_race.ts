/**
 * The migrations that processes of several runtimes race to apply.
 *
 * @module
 */
import type { Migration } from "../../mod.ts";
import { BOTS_MIGRATIONS } from "./backend_cases_migrate.ts";

/** The migrations of the race: those of the conformance suite, then 500 seeded rows. */
export const RACE_MIGRATIONS: readonly Migration[] = [
  ...BOTS_MIGRATIONS,
  {
    name: "seed_bots",
    up: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
      INSERT INTO bots (name, source_menace_id) SELECT 'seed-' || i, 'seed' FROM n`,
  },
  { name: "bots_index", up: "CREATE INDEX bots_by_owner ON bots (source_menace_id)" },
];
