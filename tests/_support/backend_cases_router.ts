/**
 * Conformance cases for what the router does around a shared backend:
 * routing, denied and unknown tables, scope, ownership, logs, audit, metrics,
 * SQL functions, closing and concurrency.
 *
 * @module
 */
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { metrics } from "@opentelemetry/api";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import * as assert from "uvu/assert";
import type { AccessEvent, DBRouter, RouterError } from "../../mod.ts";
import { type BackendCase, BOTS_SCHEMA } from "./backend_conformance.ts";
import { codeOf, rejection } from "./errors.ts";
import { auditFolder, readAudit } from "./observe_audit.ts";

const everything = (router: DBRouter) =>
  router.query("bots", "SELECT name, source_menace_id FROM bots ORDER BY id", [], { scope: "all" });

/** alpha and beta on one shared database, one row each. */
async function twoOwners(open: (id: string) => DBRouter) {
  const alpha = open("alpha");
  const beta = open("beta");
  await alpha.getConnection("bots", "write").exec(BOTS_SCHEMA);
  await alpha.insert("bots", { id: 1, name: "alpha-1" });
  await beta.insert("bots", { id: 2, name: "beta-2" });
  return { alpha, beta };
}

export const ROUTER_CASES: readonly BackendCase[] = [
  [
    "shared tables go to the backend, local tables stay in each instance's sql.js",
    async ({ open, fixture }) => {
      const { alpha, beta } = await twoOwners(open);
      assert.is(alpha.getConnection("bots").database, "shared");
      assert.is(alpha.getConnection("models").database, "local");
      await alpha.getConnection("models", "write").exec("CREATE TABLE models (name TEXT)");
      await alpha.getConnection("models", "write").run("INSERT INTO models VALUES ('local-row')");
      assert.equal(await fixture.inspect("SELECT name FROM bots ORDER BY id"), [
        { name: "alpha-1" },
        { name: "beta-2" },
      ]);
      assert.equal(
        await fixture.inspect("SELECT name FROM sqlite_master WHERE name = 'models'"),
        [],
        "the local table never reaches the shared database",
      );
      assert.equal((await everything(beta)).length, 2, "beta reads alpha's shared row");
      assert.match(
        (await rejection(beta.getConnection("models").all("SELECT * FROM models"))).message,
        /no such table/,
      );
    },
  ],
  ["denied and unknown tables throw synchronously and count nothing", ({ open }) => {
    const router = open("alpha");
    assert.is(codeOf(() => router.getConnection("capital_ledger", "write")), "TABLE_DENIED");
    assert.is(codeOf(() => router.getConnection("no_such_table")), "TABLE_UNKNOWN");
    assert.is(codeOf(() => router.insert("finance_logs", { amount: 1 })), "TABLE_DENIED");
    assert.equal(router.getAccessCounts(), { shared: {}, local: {} });
    return Promise.resolve();
  }],
  ["query() scope: local sees own rows, global others', all every row", async ({ open }) => {
    const { alpha } = await twoOwners(open);
    const names = async (scope: "local" | "global" | "all") =>
      (await alpha.query("bots", "SELECT name FROM bots WHERE id > ? ORDER BY id", [0], { scope }))
        .map((r) => r.name);
    assert.equal(await names("local"), ["alpha-1"]);
    assert.equal(await names("global"), ["beta-2"]);
    assert.equal(await names("all"), ["alpha-1", "beta-2"]);
  }],
  [
    "insert() stamps the writer's id; upsert() never overwrites another instance's row",
    async ({ open }) => {
      const { alpha, beta } = await twoOwners(open);
      assert.equal(await everything(beta), [
        { name: "alpha-1", source_menace_id: "alpha" },
        { name: "beta-2", source_menace_id: "beta" },
      ]);
      assert.throws(
        () => alpha.insert("bots", { name: "forged", source_menace_id: "beta" }),
        TypeError,
      );
      assert.is((await alpha.upsert("bots", { id: 2, name: "taken" }, ["id"])).changes, 0);
      assert.is((await alpha.upsert("bots", { id: 1, name: "alpha-renamed" }, ["id"])).changes, 1);
      assert.equal((await everything(beta)).map((r) => r.name), ["alpha-renamed", "beta-2"]);
    },
  ],
  [
    'update() and delete() touch only the caller\'s rows unless scope says "all"',
    async ({ open }) => {
      const { alpha, beta } = await twoOwners(open);
      assert.is((await alpha.update("bots", { name: "x" }, {})).changes, 1);
      assert.is((await alpha.delete("bots", { id: 2 })).changes, 0);
      assert.is(
        (await beta.update("bots", { name: "by beta" }, {}, { scope: "global" })).changes,
        1,
      );
      assert.equal((await everything(alpha)).map((r) => r.name), ["by beta", "beta-2"]);
      assert.is((await alpha.delete("bots", { id: 2 }, { scope: "all" })).changes, 1);
      assert.equal(await everything(beta), [{ name: "by beta", source_menace_id: "alpha" }]);
    },
  ],
  [
    "observers, counts, logs and the audit log see shared and local accesses alike",
    async ({ open }) => {
      const folder = auditFolder("dbr-backend-audit-");
      const records: LogRecord[] = [];
      await configure({
        reset: true,
        sinks: { memory: (record: LogRecord) => void records.push(record) },
        loggers: [
          { category: ["db-router"], sinks: ["memory"], lowestLevel: "info" },
          { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
        ],
      });
      try {
        const seen: AccessEvent[] = [];
        const router = open("alpha", {
          observers: [{ onAccess: (event) => void seen.push(event) }],
          auditLog: folder.path("audit.log"),
        });
        await router.getConnection("bots", "write").exec(BOTS_SCHEMA);
        await router.insert("bots", { name: "b1" });
        router.getConnection("models");
        await router.flush();
        assert.equal(seen.map((e) => [e.table, e.operation, e.database]), [
          ["bots", "write", "shared"],
          ["bots", "write", "shared"],
          ["models", "read", "local"],
        ]);
        assert.equal(router.getAccessCounts(), { shared: { bots: 2 }, local: { models: 1 } });
        assert.equal(records.map((r) => r.message.join("")), [
          "alpha write bots (shared)",
          "alpha write bots (shared)",
          "alpha read models (local)",
        ]);
        assert.equal(
          readAudit(folder.path("audit.log")).map((l) => [l.menace_id, l.table_name, l.operation]),
          [["alpha", "bots", "write"], ["alpha", "bots", "write"], ["alpha", "models", "read"]],
        );
      } finally {
        await reset();
        folder.remove();
      }
    },
  ],
  ["table_access_total counts accesses with database shared or local", async ({ open }) => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    assert.ok(metrics.setGlobalMeterProvider(provider));
    try {
      const router = open("alpha");
      router.getConnection("bots", "write");
      router.getConnection("models");
      await reader.forceFlush();
    } finally {
      metrics.disable();
      await provider.shutdown();
    }
    // The first export is forceFlush()'s; shutdown() exports the same points again.
    const points = exporter.getMetrics()[0].scopeMetrics.flatMap((s) => s.metrics)
      .flatMap((m) =>
        m.dataPoints.map((p) => [p.attributes.table, p.attributes.database, p.value])
      );
    assert.equal(points.sort(), [["bots", "shared", 1], ["models", "local", 1]]);
  }],
  [
    "registerFunction() covers both databases where it can, else refuses unless only local",
    async ({ open, harness }) => {
      const router = open("alpha");
      const halve = (x: unknown) => (typeof x === "number" ? x / 2 : null);
      if (harness.functions) {
        router.registerFunction("halve", halve);
        assert.equal(await router.getConnection("bots").get("SELECT halve(3) AS h"), { h: 1.5 });
      } else {
        assert.is(codeOf(() => router.registerFunction("halve", halve)), "UNSUPPORTED");
        const local = await rejection(router.getConnection("models").get("SELECT halve(3) AS h"));
        assert.match(local.message, /no such function/, "a refused call registers nothing");
        router.registerFunction("halve", halve, { only: "local" });
      }
      assert.equal(await router.getConnection("models").get("SELECT halve(5) AS h"), { h: 2.5 });
    },
  ],
  [
    "after close() every call throws ROUTER_CLOSED, including on the shared connection taken before",
    async ({ open }) => {
      const router = open("alpha");
      const conn = router.getConnection("bots", "write");
      await conn.exec(BOTS_SCHEMA);
      await router.close();
      assert.is(((await rejection(conn.all("SELECT 1"))) as RouterError).code, "ROUTER_CLOSED");
      assert.is(codeOf(() => router.getConnection("bots")), "ROUTER_CLOSED");
      await router.close();
    },
  ],
  [
    "concurrent writers through two routers lose no row; ready(), flush() and stats() work",
    async ({ open, fixture }) => {
      const { alpha, beta } = await twoOwners(open);
      await Promise.all([alpha.ready(), beta.ready()]);
      await Promise.all(
        Array.from(
          { length: 40 },
          (_, i) => (i % 2 ? alpha : beta).insert("bots", { name: `n${i}` }),
        ),
      );
      await Promise.all([alpha.flush(), beta.flush()]);
      assert.equal(await fixture.inspect("SELECT count(DISTINCT name) AS n FROM bots"), [{
        n: 42,
      }]);
      assert.ok(alpha.storageStats().shared.commits > 0, "writes are counted");
    },
  ],
];
