/**
 * `table_access_total` through the OpenTelemetry metrics API, read back with
 * the SDK's in-memory exporter.
 *
 * @module
 */
import { metrics } from "@opentelemetry/api";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, memoryStorage } from "../mod.ts";
import { METER_NAME, metricsObserver, TABLE_ACCESS_METRIC } from "../src/observe/metrics.ts";

const test = suite("observe: metrics");

/** Registers a global MeterProvider for the duration of `body`; returns the counter's points. */
async function withProvider(body: () => Promise<void>) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const provider = new MeterProvider({ readers: [reader] });
  assert.ok(metrics.setGlobalMeterProvider(provider), "registered");
  try {
    await body();
    await reader.forceFlush();
  } finally {
    metrics.disable();
    await provider.shutdown();
  }
  const scopes = exporter.getMetrics().flatMap((r) => r.scopeMetrics);
  assert.ok(scopes.every((s) => s.scope.name === METER_NAME));
  const metric = scopes.flatMap((s) => s.metrics).find((m) =>
    m.descriptor.name === TABLE_ACCESS_METRIC
  );
  assert.ok(metric, "table_access_total exported");
  return metric!.dataPoints.map((p) => ({ ...p.attributes, value: p.value as number }))
    .sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
}

test("without a MeterProvider, metrics cost nothing: no observer is created", () => {
  assert.is(metricsObserver(), undefined);
});

test("table_access_total counts allowed accesses by menace, table, operation and database", async () => {
  const points = await withProvider(async () => {
    const alpha = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
    const beta = new DBRouter("beta", "l2.db", "s.db", { storage: memoryStorage() });
    alpha.getConnection("bots", "write");
    alpha.getConnection("bots", "write");
    alpha.getConnection("bots");
    alpha.getConnection("models");
    beta.getConnection("bots", "write");
    assert.throws(() => alpha.getConnection("capital_ledger"));
    await Promise.all([alpha.close(), beta.close()]);
  });
  assert.equal(points, [
    { menace: "alpha", table: "bots", operation: "read", database: "shared", value: 1 },
    { menace: "alpha", table: "bots", operation: "write", database: "shared", value: 2 },
    { menace: "alpha", table: "models", operation: "read", database: "local", value: 1 },
    { menace: "beta", table: "bots", operation: "write", database: "shared", value: 1 },
  ]);
});

test("the counter is monotonic and described", async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const provider = new MeterProvider({ readers: [reader] });
  metricsObserver(provider.getMeter(METER_NAME))!.onAccess!({
    menaceId: "a",
    table: "bots",
    operation: "read",
    database: "shared",
  });
  await reader.forceFlush();
  const metric = exporter.getMetrics()[0].scopeMetrics[0].metrics[0];
  assert.is(metric.descriptor.name, "table_access_total");
  assert.is(metric.descriptor.unit, "{access}");
  assert.ok((metric as { isMonotonic?: boolean }).isMonotonic);
  await provider.shutdown();
});

test.run();
