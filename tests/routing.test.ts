import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  ConfigError,
  DEFAULT_LOCAL_TABLES,
  DEFAULT_SHARED_TABLES,
  DENY_TABLES,
  explainRoute,
  LOCAL_TABLES,
  parseRoutingConfig,
  routeTable,
  SHARED_TABLES,
  TableRoutingError,
  TableSet,
} from "../mod.ts";
import { applyRoutingLists } from "../src/routing/config.ts";
import { parseRoutingEnv } from "../src/routing/env.ts";
import { isIdentifier } from "../src/routing/identifier.ts";

const test = suite("routing");

/** Runs `body` and restores the three sets afterwards, so tests stay independent. */
async function withSets(body: () => void | Promise<void>): Promise<void> {
  const saved = [SHARED_TABLES, LOCAL_TABLES, DENY_TABLES].map((set) =>
    [...set].map((t) => [t, set.provenanceOf(t)!] as const)
  );
  try {
    await body();
  } finally {
    [SHARED_TABLES, LOCAL_TABLES, DENY_TABLES].forEach((set, i) => {
      set.clear();
      for (const [table, provenance] of saved[i]) set.addFrom(table, provenance);
    });
  }
}

function routingError(fn: () => unknown): TableRoutingError {
  try {
    fn();
  } catch (error) {
    assert.instance(error, TableRoutingError);
    return error as TableRoutingError;
  }
  throw new Error("expected a TableRoutingError");
}

test("the default sets hold the spec's 9 shared, 67 local and 2 denied tables", () => {
  assert.is(DEFAULT_SHARED_TABLES.length, 9);
  assert.is(DEFAULT_LOCAL_TABLES.length, 67);
  assert.ok(SHARED_TABLES.has("workflow_summaries"));
  assert.ok(LOCAL_TABLES.has("synergy_history"));
  assert.equal([...DENY_TABLES].sort(), ["capital_ledger", "finance_logs"]);
  assert.not.ok(DEFAULT_SHARED_TABLES.some((t) => DEFAULT_LOCAL_TABLES.includes(t)));
});

test("routeTable() sends shared tables to shared and local tables to local", () => {
  assert.is(routeTable("bots"), "shared");
  assert.is(routeTable("telemetry"), "shared");
  assert.is(routeTable("models"), "local");
  assert.is(routeTable("failures"), "local");
});

test("routeTable() throws TABLE_DENIED for a denied table, even one also in a routing set", () =>
  withSets(() => {
    assert.is(routingError(() => routeTable("capital_ledger")).code, "TABLE_DENIED");
    SHARED_TABLES.add("finance_logs");
    assert.is(routingError(() => routeTable("finance_logs")).code, "TABLE_DENIED");
  }));

test("routeTable() throws TABLE_UNKNOWN for a table in no set, naming it", () => {
  const error = routingError(() => routeTable("bots "));
  assert.is(error.code, "TABLE_UNKNOWN");
  assert.is(error.table, "bots ");
  assert.match(error.message, /"bots "/);
});

test("routeTable() throws TABLE_AMBIGUOUS when code puts a table in both shared and local", () =>
  withSets(() => {
    LOCAL_TABLES.add("bots");
    assert.is(routingError(() => routeTable("bots")).code, "TABLE_AMBIGUOUS");
  }));

test("TableSet.add() rejects a name that is not a plain SQL identifier", () => {
  for (const bad of ["", "bad name", "x;DROP TABLE y", "1abc", 'a"b', "a".repeat(129)]) {
    assert.throws(
      () => SHARED_TABLES.add(bad),
      (e: Error) => e instanceof TypeError && e.message.includes("SHARED_TABLES"),
    );
  }
  assert.not.ok(SHARED_TABLES.has("bad name"));
});

test("TableSet records code as the layer of tables added by code", () =>
  withSets(() => {
    SHARED_TABLES.add("alerts");
    assert.equal(SHARED_TABLES.provenanceOf("alerts"), { layer: "code" });
    assert.equal(SHARED_TABLES.provenanceOf("bots"), { layer: "default" });
    assert.is(SHARED_TABLES.provenanceOf("nope"), undefined);
    assert.ok(new TableSet("local") instanceof Set);
  }));

test("isIdentifier() accepts plain names only", () => {
  assert.ok(isIdentifier("workflow_summaries"));
  assert.ok(isIdentifier("_x1"));
  assert.not.ok(isIdentifier("1x"));
  assert.not.ok(isIdentifier("a-b"));
  assert.not.ok(isIdentifier(3));
});

test("parseRoutingConfig() returns the lists of a valid file, empty lists for absent keys", () => {
  const config = parseRoutingConfig('{"shared": ["alerts"], "audit_log": "/tmp/a.log"}', "c.json");
  assert.equal(config.shared, ["alerts"]);
  assert.equal(config.local, []);
  assert.equal(config.deny, []);
  assert.is(config.audit_log, "/tmp/a.log");
});

test("parseRoutingConfig() names the file and every bad field", () => {
  try {
    parseRoutingConfig(
      '{"shared": ["ok", 3, "bad name"], "deny": "x", "lcoal": []}',
      "/etc/r.json",
    );
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ConfigError);
    const e = error as ConfigError;
    assert.is(e.code, "CONFIG_INVALID");
    assert.is(e.source, "/etc/r.json");
    assert.equal(e.issues.map((i) => i.path), ["shared.1", "shared.2", "deny", "lcoal"]);
    assert.match(e.message, /^Invalid routing configuration "\/etc\/r\.json": shared\.1: /);
  }
});

test("parseRoutingConfig() rejects malformed JSON, a non-object and a table both shared and local", () => {
  for (
    const [text, reason] of [
      ["{bad", /malformed JSON/],
      ["[1, 2]", /expected a JSON object/],
      ['"x"', /expected a JSON object/],
      ['{"shared": ["a"], "local": ["a"]}', /both shared and local: a/],
    ] as const
  ) {
    assert.throws(
      () => parseRoutingConfig(text, "f.json"),
      (e: Error) => e instanceof ConfigError && reason.test(e.message),
    );
  }
});

test("applyRoutingLists() moves tables between sets and keeps denied tables denied", () =>
  withSets(() => {
    applyRoutingLists(
      { shared: ["models"], local: ["bots"], deny: ["errors"] },
      "config",
      "f.json",
    );
    assert.is(routeTable("models"), "shared");
    assert.is(routeTable("bots"), "local");
    assert.is(routingError(() => routeTable("errors")).code, "TABLE_DENIED");
    assert.not.ok(SHARED_TABLES.has("errors"));
    applyRoutingLists(
      { shared: ["errors"], local: [], deny: [] },
      "env",
      "DB_ROUTER_SHARED_TABLES",
    );
    assert.is(routingError(() => routeTable("errors")).code, "TABLE_DENIED");
    assert.equal(SHARED_TABLES.provenanceOf("models"), { layer: "config", source: "f.json" });
  }));

test("parseRoutingEnv() trims names, drops blanks and reads all three variables", () => {
  const env: Record<string, string> = {
    DB_ROUTER_SHARED_TABLES: "alerts, metrics",
    DB_ROUTER_LOCAL_TABLES: " session ,, debug_stats ,",
    DB_ROUTER_DENY_TABLES: "",
  };
  assert.equal(parseRoutingEnv((n) => env[n]), {
    shared: ["alerts", "metrics"],
    local: ["session", "debug_stats"],
    deny: [],
  });
});

test("parseRoutingEnv() names the variable holding a bad name or a conflict", () => {
  assert.throws(
    () => parseRoutingEnv((n) => (n === "DB_ROUTER_DENY_TABLES" ? "ok, x;y" : undefined)),
    (e: Error) =>
      e instanceof ConfigError && e.source === "DB_ROUTER_DENY_TABLES" &&
      e.message.includes('"x;y"'),
  );
  assert.throws(
    () => parseRoutingEnv((n) => (n.includes("SHARED") || n.includes("LOCAL") ? "a" : undefined)),
    (e: Error) => e instanceof ConfigError && /also in DB_ROUTER_LOCAL_TABLES: a/.test(e.message),
  );
});

test("explainRoute() names the route and the deciding layer", () =>
  withSets(() => {
    assert.equal(explainRoute("bots").route, "shared");
    assert.equal(explainRoute("bots").layer, "default");
    assert.equal(explainRoute("models").route, "local");
    assert.equal(explainRoute("capital_ledger").route, "denied");
    assert.equal(explainRoute("nope"), {
      table: "nope",
      route: "unknown",
      layer: null,
      reason: '"nope" is in no routing set: every access is refused',
    });
    applyRoutingLists({ shared: [], local: ["alerts"], deny: [] }, "env", "DB_ROUTER_LOCAL_TABLES");
    const alerts = explainRoute("alerts");
    assert.is(alerts.layer, "env");
    assert.is(alerts.source, "DB_ROUTER_LOCAL_TABLES");
    assert.match(alerts.reason, /env DB_ROUTER_LOCAL_TABLES/);
    DENY_TABLES.add("alerts");
    assert.equal([explainRoute("alerts").route, explainRoute("alerts").layer], ["denied", "code"]);
    LOCAL_TABLES.add("bots");
    assert.is(explainRoute("bots").route, "ambiguous");
  }));

test.run();
