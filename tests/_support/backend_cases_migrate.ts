/**
 * Conformance cases for `router.migrate()` on a shared backend: ordered,
 * recorded, once; a failure rolled back and named; a database ahead of the
 * code refused; concurrent callers; D1's script-only migrations.
 *
 * @module
 */
import * as assert from "uvu/assert";
import { type Migration, MigrationError, RouterError } from "../../mod.ts";
import type { BackendCase, SharedFixture } from "./backend_conformance.ts";
import { rejection } from "./errors.ts";

/** Three migrations of a `bots` table; the third a multi-line script with a trigger. */
export const BOTS_MIGRATIONS: readonly Migration[] = [
  {
    name: "create_bots",
    up: "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT UNIQUE, source_menace_id TEXT)",
  },
  { name: "bots_score", up: "ALTER TABLE bots ADD COLUMN score REAL DEFAULT 0" },
  {
    name: "bots_log",
    up: `CREATE TABLE bots_log (id INTEGER PRIMARY KEY, name TEXT);
      CREATE TRIGGER bots_logged AFTER INSERT ON bots BEGIN
        INSERT INTO bots_log (name) VALUES (new.name);
      END;`,
  },
];

const records = (fixture: SharedFixture) =>
  fixture.inspect("SELECT version, name, menace_id FROM _dbrouter_migrations ORDER BY version");

const tables = async (fixture: SharedFixture) =>
  (await fixture.inspect(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'bots%' ORDER BY name",
  )).map((row) => row.name);

export const MIGRATE_CASES: readonly BackendCase[] = [
  [
    "migrate() applies the missing migrations in order, once, and records each",
    async ({ open, fixture, harness }) => {
      const router = open("alpha");
      assert.equal(await router.migrate(BOTS_MIGRATIONS.slice(0, 2)), {
        database: "shared",
        namespace: "main",
        from: 0,
        to: 2,
        applied: ["create_bots", "bots_score"],
      });
      assert.equal(await router.migrate(BOTS_MIGRATIONS.slice(0, 2)), {
        database: "shared",
        namespace: "main",
        from: 2,
        to: 2,
        applied: [],
      }, "nothing to do the second time");
      const report = await open("beta").migrate(BOTS_MIGRATIONS);
      assert.equal(report.applied, ["bots_log"]);
      assert.equal(await records(fixture), [
        { version: 1, name: "create_bots", menace_id: "alpha" },
        { version: 2, name: "bots_score", menace_id: "alpha" },
        { version: 3, name: "bots_log", menace_id: "beta" },
      ]);
      await router.insert("bots", { name: "b1" });
      assert.equal(await fixture.inspect("SELECT name, score FROM bots"), [
        { name: "b1", score: 0 },
      ]);
      assert.equal(await fixture.inspect("SELECT name FROM bots_log"), [{ name: "b1" }]);
      if (harness.name.startsWith("D1")) return; // D1 keeps no user_version (see README)
      assert.equal(await fixture.inspect("PRAGMA user_version"), [{ user_version: 3 }]);
    },
  ],
  [
    "a failed migration is rolled back whole, names itself, and leaves earlier ones applied",
    async ({ open, fixture }) => {
      const router = open("alpha");
      const broken: Migration = {
        name: "half_done",
        up: "CREATE TABLE bots_half (x); INSERT INTO no_such_table VALUES (1)",
      };
      const error = await rejection(router.migrate([BOTS_MIGRATIONS[0], broken]));
      assert.instance(error, MigrationError);
      const failure = error as MigrationError;
      assert.is(failure.code, "MIGRATION_FAILED");
      assert.is(failure.migration, "half_done");
      assert.is(failure.version, 2);
      assert.match(failure.message, /"half_done"/);
      assert.match(failure.message, /no such table/);
      assert.equal(await tables(fixture), ["bots"], "bots_half was rolled back");
      assert.equal((await records(fixture)).map((r) => r.name), ["create_bots"]);
      // Fixed, it applies at the next call.
      const fixed = { name: "half_done", up: "CREATE TABLE bots_half (x)" };
      assert.equal((await router.migrate([BOTS_MIGRATIONS[0], fixed])).applied, ["half_done"]);
    },
  ],
  [
    "a database ahead of the code, or with other names, is refused before anything runs",
    async ({ open, fixture }) => {
      const router = open("alpha");
      await router.migrate(BOTS_MIGRATIONS);
      const ahead = await rejection(router.migrate(BOTS_MIGRATIONS.slice(0, 2)));
      assert.instance(ahead, MigrationError);
      assert.is((ahead as MigrationError).code, "MIGRATION_AHEAD");
      assert.match(ahead.message, /version 3 \(last migration "bots_log"\)/);
      const renamed = [BOTS_MIGRATIONS[0], { ...BOTS_MIGRATIONS[1], name: "score" }];
      const mismatch = await rejection(router.migrate(renamed));
      assert.is((mismatch as MigrationError).code, "MIGRATION_MISMATCH");
      assert.is((mismatch as MigrationError).migration, "score");
      const more = [...BOTS_MIGRATIONS, { name: "bots_x", up: "CREATE TABLE bots_x (x)" }];
      const reordered = [more[0], more[1], more[3], more[2]];
      assert.is(
        (await rejection(router.migrate(reordered)) as RouterError).code,
        "MIGRATION_MISMATCH",
      );
      assert.equal(await tables(fixture), ["bots", "bots_log"], "nothing ran");
    },
  ],
  [
    "routers migrating at once apply each migration exactly once",
    async ({ open, fixture }) => {
      const routers = ["alpha", "beta", "gamma", "delta"].map((id) => open(id));
      const reports = await Promise.all(routers.map((r) => r.migrate(BOTS_MIGRATIONS)));
      const applied = reports.flatMap((r) => r.applied).sort();
      assert.equal(applied, BOTS_MIGRATIONS.map((m) => m.name).sort());
      assert.equal((await records(fixture)).map((r) => r.version), [1, 2, 3]);
      for (const report of reports) assert.is(report.to, 3);
    },
  ],
  [
    "a function migration runs in the transaction, or is UNSUPPORTED without transactions",
    async ({ open, fixture, harness }) => {
      const router = open("alpha");
      const seed: Migration = {
        name: "seed",
        up: async (tx) => {
          await tx.run("INSERT INTO bots (name) VALUES (?)", ["seeded"]);
          const row = await tx.get<{ n: number }>("SELECT count(*) AS n FROM bots");
          if (row?.n !== 1) throw new Error("the migration's own write is not visible");
        },
      };
      const throwing: Migration = {
        name: "throws",
        up: async (tx) => {
          await tx.run("INSERT INTO bots (name) VALUES ('undone')");
          throw new Error("changed my mind");
        },
      };
      if (!harness.transactions) {
        const error = await rejection(router.migrate([BOTS_MIGRATIONS[0], seed]));
        assert.is((error as RouterError).code, "UNSUPPORTED");
        assert.match(error.message, /"seed"/);
        assert.equal(await tables(fixture), [], "nothing ran, not even the script before it");
        return;
      }
      await router.migrate([BOTS_MIGRATIONS[0], seed]);
      const error = await rejection(router.migrate([BOTS_MIGRATIONS[0], seed, throwing]));
      assert.is((error as MigrationError).migration, "throws");
      assert.match(error.message, /changed my mind/);
      assert.equal(await fixture.inspect("SELECT name FROM bots"), [{ name: "seeded" }]);
    },
  ],
  [
    "namespaces are versioned apart; user_version counts the migrations of all of them",
    async ({ open, fixture, harness }) => {
      const router = open("alpha");
      await router.migrate(BOTS_MIGRATIONS.slice(0, 2));
      const notes: Migration[] = [
        { name: "create", up: "CREATE TABLE bots_notes (id INTEGER PRIMARY KEY, text TEXT)" },
      ];
      assert.equal(await router.migrate(notes, { namespace: "notes" }), {
        database: "shared",
        namespace: "notes",
        from: 0,
        to: 1,
        applied: ["create"],
      });
      assert.equal((await router.migrate(BOTS_MIGRATIONS)).applied, ["bots_log"]);
      assert.equal(
        await fixture.inspect(
          "SELECT namespace, version, name FROM _dbrouter_migrations ORDER BY rowid",
        ),
        [
          { namespace: "main", version: 1, name: "create_bots" },
          { namespace: "main", version: 2, name: "bots_score" },
          { namespace: "notes", version: 1, name: "create" },
          { namespace: "main", version: 3, name: "bots_log" },
        ],
      );
      assert.instance(await rejection(router.migrate(notes, { namespace: "a b" })), TypeError);
      if (harness.name.startsWith("D1")) return;
      assert.equal(await fixture.inspect("PRAGMA user_version"), [{ user_version: 4 }]);
    },
  ],
  [
    "bad migration lists are a TypeError naming the entry, before anything runs",
    async ({ open, fixture }) => {
      const router = open("alpha");
      const bad = [
        "nope",
        [{ name: "", up: "SELECT 1" }],
        [{ name: "has space", up: "SELECT 1" }],
        [{ name: "a", up: "CREATE TABLE bots_a (x)" }, { name: "a", up: "SELECT 1" }],
        [{ name: "a", up: "  " }],
        [{ name: "a", up: 42 }],
        [null],
      ];
      for (const migrations of bad) {
        const error = await rejection(router.migrate(migrations as never));
        assert.instance(error, TypeError, JSON.stringify(migrations));
      }
      assert.match(
        (await rejection(router.migrate([{ name: "a", up: "x" }, { name: "a", up: "y" }])))
          .message,
        /migration 2 name "a": used twice/,
      );
      assert.instance(
        await rejection(router.migrate([], { database: "other" as never })),
        TypeError,
      );
      assert.equal(await tables(fixture), []);
    },
  ],
];
