/**
 * The browser demo (`npm run demo:browser`): one Menace instance per tab
 * (`?menace=beta`), routing `bots` to the shared database and `models` to the
 * tab's local one, both kept in the browser's storage: OPFS where the page can
 * use it, IndexedDB otherwise, or the one named by `?store=opfs` or
 * `?store=indexeddb`. It shows a scope switch on the
 * shared table, the audit trail (kept in IndexedDB, through the storage
 * adapter's record logs), and persistence: reload, and everything is still
 * there, including the count of page loads. Other tabs' writes appear at
 * once, on the adapter's commit notices.
 *
 * @module
 */
import { browserStorage, initDbRouter, type Scope, setWasmUrl } from "../../mod.ts";
import { byId, fillRows, onSubmit, showError } from "./view.ts";

/** Where the page's server puts sql.js's wasm (beside the page is also the default). */
setWasmUrl("/sql-wasm-browser.wasm");

const AUDIT_LOG = "audit/db_router_audit.log";
const AUDIT_LINES = 12;
const params = new URLSearchParams(location.search);
const menaceId = params.get("menace") || "alpha";
const store = params.get("store") || "auto";
const storage = browserStorage({ store: store as "auto" | "opfs" | "indexeddb" });
const router = initDbRouter(menaceId, undefined, undefined, { storage, auditLog: AUDIT_LOG });
let scope: Scope = "all";

async function setUp(): Promise<number> {
  await router.getConnection("bots", "write").exec(
    "CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT NOT NULL, source_menace_id TEXT)",
  );
  const local = router.getConnection("models", "write");
  await local.exec(
    "CREATE TABLE IF NOT EXISTS models (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT)",
  );
  const events = router.getConnection("events", "write");
  await events.exec(
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, kind TEXT, at TEXT)",
  );
  await events.run("INSERT INTO events (kind, at) VALUES ('page load', ?)", [now()]);
  const row = await events.get("SELECT count(*) AS n FROM events WHERE kind = 'page load'");
  return Number(row?.n ?? 0);
}

async function render(): Promise<void> {
  const bots = await router.query<{ id: number; name: string; source_menace_id: string }>(
    "bots",
    "SELECT id, name, source_menace_id FROM bots ORDER BY id",
    [],
    { scope },
  );
  fillRows(
    "bots",
    bots.map((b) => [b.id, b.name, b.source_menace_id]),
    (r, c) => c === 2 && bots[r].source_menace_id === menaceId,
    `no rows in scope "${scope}"`,
  );
  const models = await router.getConnection("models").all<
    { id: number; name: string; created_at: string }
  >(
    "SELECT id, name, created_at FROM models ORDER BY id",
  );
  fillRows("models", models.map((m) => [m.id, m.name, m.created_at.slice(11, 19)]));
  await router.flush(); // the audit lines of the reads above, too
  const lines: string[] = [];
  for await (const line of storage.records!.read(storage.resolve(AUDIT_LOG))) lines.push(line);
  const audit = lines.slice(-AUDIT_LINES).reverse().map((line) => JSON.parse(line));
  fillRows(
    "audit",
    audit.map((a) => [a.timestamp.slice(11, 23), a.menace_id, a.table_name, a.operation]),
    (r, c) => c === 1 && audit[r].menace_id === menaceId,
  );
  byId("audit-path").textContent =
    `The newest ${audit.length} of ${lines.length} lines of "${AUDIT_LOG}", every instance's.`;
}

let pending: ReturnType<typeof setTimeout> | undefined;
/** Re-renders soon; reads catch up with other tabs' commits after maxReadLagMs (100 ms). */
function renderSoon(delayMs = 150): void {
  clearTimeout(pending);
  pending = setTimeout(() => void render().catch(showError), delayMs);
}

async function act(work: () => Promise<unknown>): Promise<void> {
  try {
    showError();
    await work();
    await render();
  } catch (error) {
    showError(error);
  }
}

function now(): string {
  return new Date().toISOString();
}

async function main(): Promise<void> {
  byId("menace").textContent = menaceId;
  document.title = `db-router · ${menaceId}`;
  byId("bots-route").textContent = router.explainRoute("bots").reason;
  byId("models-route").textContent = router.explainRoute("models").reason;
  const loads = await setUp();
  const persisted = await storage.persistence();
  const medium = storage.name === "opfs" ? "OPFS" : "IndexedDB";
  document.body.dataset.store = storage.name;
  byId("storage").textContent = `Storage: ${medium} "db-router" · shared "${router.sharedPath}", ` +
    `local "${router.localPath}" · persistent storage: ${
      persisted === undefined ? "not available" : persisted ? "granted" : "not granted"
    } · page loads by ${menaceId}: ${loads} (reload: rows and count stay)`;
  onSubmit("bot-form", "bot-name", (name) => act(() => router.insert("bots", { name })));
  onSubmit(
    "model-form",
    "model-name",
    (name) =>
      act(() =>
        router.getConnection("models", "write").run(
          "INSERT INTO models (name, created_at) VALUES (?, ?)",
          [name, now()],
        )
      ),
  );
  byId("scopes").addEventListener("change", (event) => {
    scope = (event.target as HTMLInputElement).value as Scope;
    void act(() => Promise.resolve());
  });
  storage.watch(() => renderSoon());
  await render();
  document.body.dataset.state = "ready";
}

main().catch((error) => {
  showError(error);
  document.body.dataset.state = "failed";
});
