/**
 * The README's first example ("The API by example") as a script that checks
 * what its comments say. Lines whose comment says `throws X, code "Y"` are
 * run inside a `try` and print the error's name and code; the values the
 * comments give for `rows` and `getAccessCounts()` are printed at the end.
 * The test compares both with the comments, so the README stays true.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./spawn.ts";

/** What a run of the example must print, one JSON value per line. */
export interface ExampleExpectations {
  /** `[name, code]` for each line that the README says throws, in order. */
  throws: [string, string][];
  /** The comment's value of `rows`. */
  rows: unknown;
  /** The comment's value of `router.getAccessCounts()`. */
  counts: unknown;
}

/** The first ```ts block after the heading "## The API by example". */
export function readmeFirstExample(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## The API by example"));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md has no ```ts block under "## The API by example"');
  return match[1];
}

/** A JavaScript object literal as the README writes it (`{ shared: { bots: 1 } }`), parsed. */
function literal(text: string): unknown {
  return JSON.parse(text.replace(/([{,]\s*)(\w+):/g, '$1"$2":').replace(/'/g, '"'));
}

/**
 * The example as a runnable module importing the library from `specifier`,
 * and what it must print.
 */
export function runnableExample(
  specifier: string,
): { script: string; expected: ExampleExpectations } {
  const expected: ExampleExpectations = { throws: [], rows: undefined, counts: undefined };
  const lines = readmeFirstExample().split("\n").map((line) => {
    const throws = /^(.*);\s*\/\/ throws (\w+), code "(\w+)"/.exec(line);
    if (throws) {
      expected.throws.push([throws[2], throws[3]]);
      return `try { ${throws[1]}; console.log(JSON.stringify(null)); } catch (e) { ` +
        `console.log(JSON.stringify([e.name, e.code])); }`;
    }
    const rows = /^const rows = .*\/\/ (\[.*\])$/.exec(line);
    if (rows) expected.rows = literal(rows[1]);
    const counts = /^router\.getAccessCounts\(\); \/\/ (\{.*\})$/.exec(line);
    if (counts) {
      expected.counts = literal(counts[1]);
      return "console.log(JSON.stringify(rows));\n" +
        "console.log(JSON.stringify(router.getAccessCounts()));";
    }
    return line.replace(/from "db-router";/, `from ${JSON.stringify(specifier)};`);
  });
  if (expected.rows === undefined || expected.counts === undefined || expected.throws.length < 2) {
    throw new Error("The README's first example no longer has the comments this test checks");
  }
  return { script: lines.join("\n"), expected };
}

/** The lines a run must print, in order, for {@linkcode runnableExample}'s expectations. */
export function expectedOutput(expected: ExampleExpectations): unknown[] {
  return [...expected.throws, expected.rows, expected.counts];
}
