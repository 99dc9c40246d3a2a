/**
 * Imported first by the browser test page, before uvu: makes uvu wait for an
 * explicit `exec()` (as `suite.ts` does) and keeps what it prints, so that
 * the page can hand its report to the test in Node.
 *
 * @module
 */

/** Everything uvu printed since the page loaded. */
export const printed: string[] = [];

const state = globalThis as { UVU_DEFER?: number; UVU_QUEUE?: unknown[][] };
state.UVU_DEFER = 1;
state.UVU_QUEUE = [];
const log = console.log.bind(console);
console.log = (...parts: unknown[]) => {
  printed.push(parts.map(String).join(" "));
  log(...parts);
};
