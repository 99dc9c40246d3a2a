/**
 * Child process for start-up tests: imports the library (which merges the
 * config file and env on import) and prints, as JSON, the route of each table
 * named on the command line, or the import error.
 *
 * @module
 */
const tables = process.argv.slice(2);
try {
  const mod = await import("../../mod.ts");
  const routes = Object.fromEntries(tables.map((t) => [t, mod.explainRoute(t)]));
  console.log(JSON.stringify({ routes, configFile: mod.ROUTING_STARTUP.configFile ?? null }));
} catch (error) {
  const e = error as { name?: string; code?: string; message?: string };
  console.log(JSON.stringify({ error: { name: e.name, code: e.code, message: e.message } }));
  process.exitCode = 3;
}
