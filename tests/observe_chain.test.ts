/**
 * The audit log's `prev_hash` chain: SHA-256 against `node:crypto`, and the
 * verifier on intact, edited, shortened and interleaved logs.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { AuditChain, CHAIN_START, ChainVerifier, lineHash } from "../src/observe/audit_chain.ts";
import { sha256Hex } from "../src/observe/sha256.ts";

const test = suite("audit chain");

function body(menace: string, n: number): string {
  return `{"menace_id":"${menace}","table_name":"bots","operation":"write","timestamp":"2024-05-14T12:00:0${
    n % 10
  }.000Z"`;
}

function writer(menace: string, count: number): string[] {
  const chain = new AuditChain();
  return Array.from({ length: count }, (_, n) => chain.link(body(menace, n)));
}

function verify(lines: string[]) {
  const verifier = new ChainVerifier();
  const problems = lines.flatMap((line, i) => {
    const record = JSON.parse(line);
    const found = verifier.check(i + 1, line, record.menace_id, record.prev_hash);
    return found ? [found] : [];
  });
  return { problems, chains: verifier.chains, heads: verifier.heads() };
}

test("sha256Hex matches node:crypto for empty, block-boundary, multi-byte and long inputs", () => {
  const inputs = ["", "abc", "a".repeat(55), "a".repeat(56), "a".repeat(64), "é€😀".repeat(40)];
  for (const text of [...inputs, "x".repeat(5000)]) {
    assert.is(
      sha256Hex(text),
      createHash("sha256").update(text).digest("hex"),
      `length ${text.length}`,
    );
    const full = createHash("sha256").update(text).digest("hex");
    assert.is(sha256Hex(text, 32), full.slice(0, 32), `first 32 digits, length ${text.length}`);
    assert.is(sha256Hex(text, 2), full.slice(0, 2));
  }
});

test("sha256Hex refuses a digest length that is odd, out of 2..64 or not whole", () => {
  for (const length of [0, 1, 33, 66, 2.5, Number.NaN]) {
    const error = (() => {
      try {
        sha256Hex("abc", length);
      } catch (e) {
        return e;
      }
    })();
    assert.instance(error, RangeError, `length ${length}`);
    assert.match((error as Error).message, `Invalid digest length ${length}`);
  }
});

test("a writer's first line starts the chain and each next line carries the previous line's hash", () => {
  const lines = writer("alpha", 3);
  assert.is(JSON.parse(lines[0]).prev_hash, CHAIN_START);
  assert.is(JSON.parse(lines[1]).prev_hash, lineHash(lines[0]));
  assert.is(JSON.parse(lines[2]).prev_hash, lineHash(lines[1]));
  assert.equal(Object.keys(JSON.parse(lines[2])), [
    "menace_id",
    "table_name",
    "operation",
    "timestamp",
    "prev_hash",
  ]);
});

test("an intact log of interleaved writers, two of them with the same menace id, verifies", () => {
  const [a, b, c] = [writer("alpha", 5), writer("alpha", 5), writer("beta", 5)];
  const mixed = a.flatMap((line, i) => [line, b[i], c[i]]);
  const result = verify(mixed);
  assert.equal(result.problems, []);
  assert.is(result.chains, 3);
  assert.is(result.heads.length, 3);
});

test("two writers that start with identical lines still verify", () => {
  const [a, b] = [writer("alpha", 3), writer("alpha", 3)];
  assert.is(a[0], b[0]);
  assert.equal(verify([a[0], b[0], a[1], b[1], a[2], b[2]]).problems, []);
});

test("an edited line breaks the chain at the next line of its writer", () => {
  const lines = writer("alpha", 4);
  lines[1] = lines[1].replace('"write"', '"read"');
  const result = verify(lines);
  assert.equal(result.problems.map((p) => p.line), [3]);
  assert.match(result.problems[0].message, /edited or removed/);
});

test("a removed line, and lines cut from the start, are found", () => {
  const lines = writer("alpha", 4);
  assert.equal(verify([lines[0], lines[2], lines[3]]).problems.map((p) => p.line), [2]);
  assert.equal(verify(lines.slice(2)).problems.map((p) => p.line), [1]);
});

test("a line moved to another menace id does not continue that menace's chain", () => {
  const lines = writer("alpha", 2);
  const moved = lines[1].replace('"alpha"', '"beta"');
  assert.equal(verify([lines[0], moved]).problems.map((p) => p.line), [2]);
});

test("a line without prev_hash is reported as unchained", () => {
  const line = `${body("alpha", 0)}}`;
  assert.match(verify([line]).problems[0].message, /no prev_hash/);
});

test.run();
