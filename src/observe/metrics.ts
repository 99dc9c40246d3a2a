/**
 * The `table_access_total` counter through the OpenTelemetry metrics API: one
 * add per allowed `getConnection`, with the attributes `menace`, `table`,
 * `operation` and `database` (`"shared"` or `"local"`).
 *
 * The API is a no-op until the application registers a `MeterProvider`
 * (`metrics.setGlobalMeterProvider`, the Node SDK, or Deno's built-in
 * telemetry with `OTEL_DENO=true`). A router looks for it when it is
 * created: register the provider first, as OpenTelemetry's guides advise.
 * With none registered, the router attaches no metrics observer at all.
 *
 * @module
 */
import type { Meter, MeterProvider } from "@opentelemetry/api";
import type { AccessEvent, RouterObserver } from "./hooks.ts";

/** The meter's instrumentation scope name. */
export const METER_NAME = "db-router";

/** The counter's name, as the specification calls it. */
export const TABLE_ACCESS_METRIC = "table_access_total";

/**
 * Where every copy of `@opentelemetry/api` 1.x keeps what was registered
 * (`metrics.setGlobalMeterProvider`, an SDK, Deno's `OTEL_DENO=true`), so
 * that copies of different versions share one provider. Reading it here,
 * instead of importing the API, keeps the API's 60-odd modules (about 30 ms
 * of start-up in Node) out of every program that registers no provider.
 */
const OTEL_API_GLOBAL = Symbol.for("opentelemetry.js.api.1");

/**
 * Creates the observer that counts accesses on `meter` (by default the
 * global provider's `db-router` meter), or returns `undefined` when no
 * MeterProvider is registered.
 *
 * @example
 * ```ts
 * import { metricsObserver } from "./metrics.ts";
 * const observer = metricsObserver(); // undefined until a MeterProvider is registered
 * observer?.onAccess?.({ menaceId: "alpha", table: "bots", operation: "read", database: "shared" });
 * ```
 */
export function metricsObserver(meter?: Meter): RouterObserver | undefined {
  const chosen = meter ?? registeredMeterProvider()?.getMeter(METER_NAME);
  if (chosen === undefined) return undefined;
  const counter = chosen.createCounter(TABLE_ACCESS_METRIC, {
    description: "Table accesses through db-router (allowed getConnection calls)",
    unit: "{access}",
  });
  return {
    onAccess(event: AccessEvent): void {
      counter.add(1, {
        menace: event.menaceId,
        table: event.table,
        operation: event.operation,
        database: event.database,
      });
    },
  };
}

/** The globally registered MeterProvider, if any (see {@linkcode OTEL_API_GLOBAL}). */
function registeredMeterProvider(): MeterProvider | undefined {
  const registry = (globalThis as { [OTEL_API_GLOBAL]?: { metrics?: MeterProvider } })[
    OTEL_API_GLOBAL
  ];
  return registry?.metrics;
}
