/**
 * Conformance cases for the `Connection` of a shared table: results,
 * parameters, errors, batches, transactions and scripts.
 *
 * @module
 */
import * as assert from "uvu/assert";
import { RouterError } from "../../mod.ts";
import { type BackendCase, BOTS_SCHEMA } from "./backend_conformance.ts";
import { rejection } from "./errors.ts";

export const CONNECTION_CASES: readonly BackendCase[] = [
  [
    "run() reports changes and lastInsertRowid; all() and get() return plain objects",
    async ({ open }) => {
      const conn = open("alpha").getConnection("bots", "write");
      await conn.exec(BOTS_SCHEMA);
      assert.equal(await conn.run("INSERT INTO bots (name, score) VALUES (?, ?)", ["a", 1.5]), {
        changes: 1,
        lastInsertRowid: 1,
      });
      assert.equal(await conn.run("INSERT INTO bots (name, score) VALUES (?, ?)", ["b", 2]), {
        changes: 1,
        lastInsertRowid: 2,
      });
      assert.is((await conn.run("UPDATE bots SET score = score + 1")).changes, 2);
      const rows = await conn.all("SELECT name, score FROM bots ORDER BY id");
      assert.equal(rows, [{ name: "a", score: 2.5 }, { name: "b", score: 3 }]);
      assert.is(Object.getPrototypeOf(rows[0]), Object.prototype, "a plain object");
      assert.equal(await conn.get("SELECT name FROM bots WHERE id = ?", [2]), { name: "b" });
      assert.is(await conn.get("SELECT name FROM bots WHERE id = ?", [99]), undefined);
      assert.equal(await conn.all("SELECT name FROM bots WHERE id > 99"), []);
    },
  ],
  [
    "named parameters work with or without their prefix, and a repeated name binds once",
    async ({ open }) => {
      const conn = open("alpha").getConnection("bots", "write");
      await conn.exec(BOTS_SCHEMA);
      await conn.run("INSERT INTO bots (name, score) VALUES (:name, @score)", {
        name: "a",
        score: 1,
      });
      await conn.run("INSERT INTO bots (name, score) VALUES ($name, :score)", {
        $name: "b",
        ":score": 2,
      });
      assert.equal(
        await conn.all("SELECT name FROM bots WHERE score >= :min ORDER BY id", { min: 1 }),
        [{ name: "a" }, { name: "b" }],
      );
      assert.equal(await conn.get("SELECT :x + :x AS twice, ':x' AS text", { x: 21 }), {
        twice: 42,
        text: ":x",
      });
    },
  ],
  [
    "booleans, bigints, blobs and null bind as SQLite values and come back as sql.js returns them",
    async ({ open }) => {
      const conn = open("alpha").getConnection("bots", "write");
      await conn.exec(BOTS_SCHEMA);
      const blob = new Uint8Array([0, 1, 255]);
      await conn.run("INSERT INTO bots (name, score, data) VALUES (?, ?, ?)", ["t", true, blob]);
      await conn.run("INSERT INTO bots (id, name, score) VALUES (?, ?, ?)", [10n, "n", null]);
      const rows = await conn.all<{ id: number; score: number | null; data: Uint8Array | null }>(
        "SELECT id, score, data FROM bots ORDER BY id",
      );
      assert.is(rows[0].score, 1);
      assert.instance(rows[0].data, Uint8Array);
      assert.equal([...rows[0].data!], [0, 1, 255]);
      assert.equal([rows[1].id, rows[1].score, rows[1].data], [10, null, null]);
      // Numbers, not "false" or "true". (sql.js binds a bigint as text; an INTEGER column's
      // affinity makes it an integer again, as for `id` above.)
      assert.equal(await conn.get("SELECT ? AS b, ? AS t, ? AS f", [false, true, 0.5]), {
        b: 0,
        t: 1,
        f: 0.5,
      });
    },
  ],
  [
    "values() returns rows as arrays with their column names, duplicates kept in order",
    async ({ open, harness }) => {
      const conn = open("alpha").getConnection("bots", "write");
      await conn.exec(BOTS_SCHEMA);
      const blob = new Uint8Array([7, 0, 255]);
      await conn.run("INSERT INTO bots (id, name, data) VALUES (1, 'a', ?), (2, 'b', NULL)", [
        blob,
      ]);
      const joined = await conn.values(
        "SELECT x.id, x.name, y.id, y.name, x.data FROM bots x JOIN bots y ON y.id = x.id + ? ORDER BY x.id",
        [1],
      );
      assert.equal(joined.columns, ["id", "name", "id", "name", "data"]);
      assert.equal(joined.rows.length, 1);
      assert.equal(joined.rows[0].slice(0, 4), [1, "a", 2, "b"]);
      assert.instance(joined.rows[0][4], Uint8Array);
      assert.equal([...(joined.rows[0][4] as Uint8Array)], [7, 0, 255]);
      assert.ok(Array.isArray(joined.rows[0]), "a row is an array");
      assert.equal(await conn.values("SELECT name, id FROM bots WHERE id > :min", { min: 5 }), {
        columns: ["name", "id"],
        rows: [],
      }, "the columns of an empty result");
      assert.equal(
        await conn.values("INSERT INTO bots (name) VALUES (?) RETURNING id, name AS id", ["c"]),
        { columns: ["id", "id"], rows: [[3, "c"]] },
        "a write with RETURNING",
      );
      assert.equal(await conn.get("SELECT count(*) AS n FROM bots"), { n: 3 }, "the write ran");
      await conn.exec("ALTER TABLE bots ADD COLUMN extra TEXT");
      const wide = await conn.values("SELECT * FROM bots WHERE id = 3");
      assert.equal(wide.columns, ["id", "name", "score", "data", "source_menace_id", "extra"]);
      assert.instance(await rejection(conn.values("SELECT nope FROM bots")), Error);
      assert.instance(await rejection(conn.values("BEGIN")), TypeError);
      if (!harness.transactions) return;
      const inside = await conn.transaction(async (tx) => {
        await tx.run("INSERT INTO bots (name) VALUES ('d')");
        return await tx.values("SELECT x.name, y.name FROM bots x JOIN bots y ON y.id = x.id - 3");
      });
      assert.equal(inside, { columns: ["name", "name"], rows: [["d", "a"]] });
    },
  ],
  [
    "bad parameters are refused with a TypeError naming them, before anything runs",
    async ({ open }) => {
      const conn = open("alpha").getConnection("bots", "write");
      await conn.exec(BOTS_SCHEMA);
      for (const params of [[undefined], [{}], [() => 1], [new Date()]]) {
        const error = await rejection(
          conn.run("INSERT INTO bots (name) VALUES (?)", params as never),
        );
        assert.instance(error, TypeError);
        assert.match(error.message, /parameter 1/);
      }
      const misnamed = await rejection(
        conn.run("INSERT INTO bots (name) VALUES (:name)", { nme: "x" }),
      );
      assert.match(misnamed.message, /"nme"/);
      assert.match(
        (await rejection(conn.all("SELECT 1", "x" as never))).message,
        /expected an array/,
      );
      assert.equal(await conn.all("SELECT count(*) AS c FROM bots"), [{ c: 0 }]);
    },
  ],
  [
    "a missing value or one too many is a RangeError naming the parameter, and nothing runs",
    async ({ open, harness }) => {
      const conn = open("alpha").getConnection("bots", "write");
      await conn.exec(BOTS_SCHEMA);
      const insert = "INSERT INTO bots (name, score) VALUES (?, ?)";
      const refusals: [() => Promise<unknown>, RegExp][] = [
        [
          () => conn.run(insert, ["a"]),
          /no value for parameter 2 \(1 given, the statement takes 2\)/,
        ],
        [() => conn.run(insert), /no value for parameter 1 \(0 given/],
        [() => conn.run(insert, ["a", 1, 2]), /3 values given, the statement takes 2/],
        [() => conn.all("SELECT ?2 AS x", [1]), /no value for parameter 2/],
        [
          () => conn.run("INSERT INTO bots (name, score) VALUES (:name, :score)", { name: "a" }),
          /":score"/,
        ],
        [() => conn.get("SELECT :a AS x, @a AS y, $b AS z", { a: 1 }), /"\$b"/],
        [() => conn.get("SELECT :a AS x", { a: 1, ":b": 2 }), /":b"/],
        [() => conn.get("SELECT ? AS x", {}), /parameter 1 \("\?"\)/],
        [
          () => conn.batch([{ sql: insert, params: ["ok", 1] }, { sql: insert, params: ["b"] }]),
          /parameter 2/,
        ],
        [() => conn.values("SELECT ?, ? AS x", [1]), /parameter 2/],
      ];
      if (harness.transactions) {
        refusals.push([() => conn.transaction((tx) => tx.run(insert, ["t"])), /parameter 2/]);
      }
      for (const [call, message] of refusals) {
        const error = await rejection(call);
        assert.instance(error, RangeError);
        assert.match(error.message, message);
      }
      assert.equal(await conn.all("SELECT count(*) AS c FROM bots"), [{ c: 0 }], "nothing ran");
      // One name, spelled with two prefixes, is given by one key without a prefix, as before.
      assert.equal(await conn.get("SELECT :a AS x, @a AS y", { a: 1 }), { x: 1, y: 1 });
      assert.equal(await conn.get("SELECT ?1 AS x, ?1 AS y", [2]), { x: 2, y: 2 });
    },
  ],
  [
    "whole numbers bind as INTEGER, other numbers as REAL and booleans as 1/0, on every backend",
    async ({ open, harness }) => {
      const conn = open("alpha").getConnection("bots", "write");
      await conn.exec(BOTS_SCHEMA);
      const probe = "SELECT typeof(?1) AS t, 7 / ?1 AS d, ?1 || '' AS s";
      const cases: [unknown, { t: string; d: number | null; s: string }][] = [
        [2, { t: "integer", d: 3, s: "2" }],
        [-5, { t: "integer", d: -1, s: "-5" }],
        [2 ** 40, { t: "integer", d: 0, s: "1099511627776" }],
        [2 ** 53 - 1, { t: "integer", d: 0, s: "9007199254740991" }],
        [2.5, { t: "real", d: 2.8, s: "2.5" }],
        [true, { t: "integer", d: 7, s: "1" }],
        [false, { t: "integer", d: null, s: "0" }],
      ];
      for (const [value, expected] of cases) {
        assert.equal(await conn.get(probe, [value as number]), expected, String(value));
      }
      // Beyond 2^53 a number is not an exact integer: a REAL everywhere.
      assert.equal(await conn.get("SELECT typeof(?) AS t", [2 ** 60]), { t: "real" });
      assert.equal(
        await conn.get("SELECT typeof(:n) AS t, 7 / :n AS d, @w || '' AS w", { n: 2, w: 2 ** 40 }),
        { t: "integer", d: 3, w: "1099511627776" },
      );
      await conn.batch([
        { sql: "INSERT INTO bots (name, score) VALUES (? || '', ?)", params: [5, 7] },
        {
          sql: "INSERT INTO bots (name, score) VALUES (:n || '', :s)",
          params: { n: 2 ** 40, s: 1 },
        },
      ]);
      await conn.run("INSERT INTO bots (name, score) VALUES (? || '', ?)", [true, 0.5]);
      assert.equal(await conn.all("SELECT name, score, typeof(score) AS t FROM bots ORDER BY id"), [
        { name: "5", score: 7, t: "real" },
        { name: "1099511627776", score: 1, t: "real" },
        { name: "1", score: 0.5, t: "real" },
      ]);
      if (harness.transactions) {
        const inside = await conn.transaction((tx) => tx.get(probe, [2 ** 40]));
        assert.equal(inside, { t: "integer", d: 0, s: "1099511627776" });
      }
    },
  ],
  ["empty SQL and transaction control outside transaction() are refused", async ({ open }) => {
    const conn = open("alpha").getConnection("bots", "write");
    for (const sql of ["", "   ", "-- only a comment", 42]) {
      assert.instance(await rejection(conn.all(sql as string)), TypeError);
    }
    for (const sql of ["BEGIN", "COMMIT", "rollback", "SAVEPOINT x"]) {
      assert.match((await rejection(conn.run(sql))).message, /use transaction\(\)/);
    }
  }],
  ["SQL errors reject with SQLite's message and leave the data unchanged", async ({ open }) => {
    const conn = open("alpha").getConnection("bots", "write");
    await conn.exec(BOTS_SCHEMA);
    await conn.run("INSERT INTO bots (name) VALUES ('a')");
    const duplicate = await rejection(conn.run("INSERT INTO bots (name) VALUES ('a')"));
    assert.match(duplicate.message, /UNIQUE constraint failed/);
    assert.match((await rejection(conn.all("SELECT nope FROM bots"))).message, /no such column/);
    assert.equal(await conn.all("SELECT name FROM bots"), [{ name: "a" }]);
  }],
  ["batch() applies all statements or none", async ({ open, fixture }) => {
    const conn = open("alpha").getConnection("bots", "write");
    await conn.exec(BOTS_SCHEMA);
    const results = await conn.batch([
      { sql: "INSERT INTO bots (name) VALUES (?)", params: ["a"] },
      { sql: "INSERT INTO bots (name) VALUES (:n)", params: { n: "b" } },
    ]);
    assert.equal(results, [{ changes: 1, lastInsertRowid: 1 }, { changes: 1, lastInsertRowid: 2 }]);
    const error = await rejection(conn.batch([
      { sql: "INSERT INTO bots (name) VALUES (?)", params: ["c"] },
      { sql: "INSERT INTO bots (name) VALUES (?)", params: ["a"] },
    ]));
    assert.match(error.message, /UNIQUE/);
    assert.equal(await fixture.inspect("SELECT name FROM bots ORDER BY id"), [
      { name: "a" },
      { name: "b" },
    ]);
    assert.instance(await rejection(conn.batch([{ sql: "BEGIN" }])), TypeError);
    assert.instance(await rejection(conn.batch("x" as never)), TypeError);
  }],
  [
    "transaction() commits, rolls back on a throw and nests as savepoints, or is UNSUPPORTED",
    async ({ open, harness, fixture }) => {
      const conn = open("alpha").getConnection("bots", "write");
      await conn.exec(BOTS_SCHEMA);
      const body = async (tx: typeof conn) => {
        await tx.run("INSERT INTO bots (name) VALUES ('kept')");
        await rejection(tx.transaction(async (inner) => {
          await inner.run("INSERT INTO bots (name) VALUES ('inner')");
          throw new Error("undo the savepoint");
        }));
        return 7;
      };
      if (!harness.transactions) {
        const error = await rejection(conn.transaction(body));
        assert.instance(error, RouterError);
        assert.is((error as RouterError).code, "UNSUPPORTED");
        assert.match(error.message, /batch\(\)/);
        assert.equal(await fixture.inspect("SELECT name FROM bots"), [], "nothing ran");
        return;
      }
      assert.is(await conn.transaction(body), 7);
      const thrown = await rejection(conn.transaction(async (tx) => {
        await tx.run("INSERT INTO bots (name) VALUES ('undone')");
        throw new Error("boom");
      }));
      assert.is(thrown.message, "boom");
      let escaped: typeof conn | undefined;
      await conn.transaction((tx) => Promise.resolve(void (escaped = tx)));
      assert.is(
        (await rejection(escaped!.all("SELECT 1")) as RouterError).code,
        "TRANSACTION_CLOSED",
      );
      assert.equal(await fixture.inspect("SELECT name FROM bots ORDER BY id"), [{ name: "kept" }]);
    },
  ],
  ["transactions are serialised with other calls on the same router", async ({ open, harness }) => {
    if (!harness.transactions) return;
    const conn = open("alpha").getConnection("bots", "write");
    await conn.exec(BOTS_SCHEMA);
    const order: string[] = [];
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    const first = conn.transaction(async (tx) => {
      inside();
      await tx.run("INSERT INTO bots (name) VALUES ('first')");
      await new Promise((resolve) => setTimeout(resolve, 30));
      order.push("transaction");
    });
    await entered;
    const outside = conn.run("INSERT INTO bots (name) VALUES ('outside')").then(() => {
      order.push("outside");
    });
    await Promise.all([first, outside]);
    assert.equal(order, ["transaction", "outside"]);
  }],
  [
    "exec() runs a multi-line script, with a trigger, and keeps statements before a failure",
    async ({ open, fixture }) => {
      const conn = open("alpha").getConnection("bots", "write");
      await conn.exec(`${BOTS_SCHEMA};
      CREATE TABLE IF NOT EXISTS errors (
        id INTEGER PRIMARY KEY, -- a comment; with a semicolon
        message TEXT
      );
      CREATE TRIGGER bots_logged AFTER INSERT ON bots BEGIN
        INSERT INTO errors (message) VALUES (CASE WHEN new.name = 'x' THEN 'x; seen' ELSE 'other' END);
      END;`);
      await conn.run("INSERT INTO bots (name) VALUES ('x')");
      assert.equal(await fixture.inspect("SELECT message FROM errors"), [{ message: "x; seen" }]);
      await rejection(
        conn.exec("INSERT INTO errors (message) VALUES ('before'); SELECT nope FROM bots"),
      );
      assert.equal(await fixture.inspect("SELECT count(*) AS n FROM errors"), [{ n: 2 }]);
    },
  ],
];
