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
import { createNoopMeter, type Meter, metrics } from "@opentelemetry/api";
import type { AccessEvent, RouterObserver } from "./hooks.ts";

/** The meter's instrumentation scope name. */
export const METER_NAME = "db-router";

/** The counter's name, as the specification calls it. */
export const TABLE_ACCESS_METRIC = "table_access_total";

const NOOP_METER_CLASS = createNoopMeter().constructor;

/**
 * Creates the observer that counts accesses on `meter` (by default the
 * global provider's `db-router` meter), or returns `undefined` when that
 * meter is OpenTelemetry's no-op one.
 *
 * @example
 * ```ts
 * import { metricsObserver } from "./metrics.ts";
 * const observer = metricsObserver(); // undefined until a MeterProvider is registered
 * observer?.onAccess?.({ menaceId: "alpha", table: "bots", operation: "read", database: "shared" });
 * ```
 */
export function metricsObserver(meter?: Meter): RouterObserver | undefined {
  const chosen = meter ?? metrics.getMeter(METER_NAME);
  if (chosen.constructor === NOOP_METER_CLASS) return undefined;
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
