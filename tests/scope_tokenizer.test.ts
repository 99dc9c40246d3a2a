import { suite } from "uvu";
import * as assert from "uvu/assert";
import { tokenize } from "../src/scope/tokenizer.ts";
import { tableRefs } from "../src/scope/table_refs.ts";
import { parseSelect } from "../src/scope/statement.ts";
import { thrown } from "./_support/scope_db.ts";

const test = suite("scope tokenizer");

const kinds = (sql: string) => tokenize(sql).map((t) => `${t.kind}:${t.text}`);

test("tokenize() skips comments and keeps literals and quoted names whole", () => {
  assert.equal(kinds('SELECT \'it\'\'s -- where\' /* where */, "a ""b""" -- where\n FROM [x y]'), [
    "word:SELECT",
    "string:'it''s -- where'",
    "comma:,",
    'quoted:"a ""b"""',
    "word:FROM",
    "quoted:[x y]",
  ]);
  assert.equal(kinds("`wh``ere` x'00ff' X'' xy"), [
    "quoted:`wh``ere`",
    "blob:x'00ff'",
    "blob:X''",
    "word:xy",
  ]);
});

test("tokenize() reads every parameter style", () => {
  assert.equal(kinds("? ?12 :name @n1 $v $a::b"), [
    "param:?",
    "param:?12",
    "param::name",
    "param:@n1",
    "param:$v",
    "param:$a::b",
  ]);
});

test("tokenize() reads numbers and operators without mistaking them for names", () => {
  assert.equal(kinds("1 1.5e-3 .5 0x1F 1_000 a.b <> || ->> -x"), [
    "number:1",
    "number:1.5e-3",
    "number:.5",
    "number:0x1F",
    "number:1_000",
    "word:a",
    "dot:.",
    "word:b",
    "operator:<>",
    "operator:||",
    "operator:->>",
    "operator:-",
    "word:x",
  ]);
  assert.equal(kinds("café_ü"), ["word:café_ü"]);
});

test("tokenize() records parenthesis depth and offsets", () => {
  const tokens = tokenize("a (b (c)) d");
  assert.equal(tokens.map((t) => t.depth), [0, 0, 1, 1, 2, 1, 0, 0]);
  assert.equal(tokens.map((t) => [t.start, t.end]).slice(0, 3), [[0, 1], [2, 3], [3, 4]]);
});

test("tokenize() lets an unterminated block comment run to the end", () => {
  assert.equal(kinds("SELECT 1 /* open"), ["word:SELECT", "number:1"]);
});

test("tokenize() throws a TypeError for unterminated literals and unbalanced parentheses", () => {
  for (const sql of ["'x", '"x', "`x", "[x", "x'00", "(", ")", "(()"]) {
    assert.instance(thrown(() => tokenize(sql)), TypeError, sql);
  }
});

test("tableRefs() reads tables, schemas, aliases and outer-join sides", () => {
  const sql = "main.bots AS b, code c LEFT JOIN other ON 1 INNER JOIN \"t 1\" 'q' " +
    "CROSS JOIN json_each('[]') j NATURAL JOIN (SELECT 1) s JOIN bots INDEXED BY i ON 1";
  const tokens = tokenize(sql);
  assert.equal(
    tableRefs(tokens, 0, tokens.length).map((r) => [r.schema, r.table, r.alias, r.nullable]),
    [
      ["main", "bots", "b", false],
      [undefined, "code", "c", false],
      [undefined, "other", undefined, true],
      [undefined, "t 1", "q", false],
      [undefined, "bots", undefined, false],
    ],
  );
});

test("tableRefs() marks every earlier table nullable after a RIGHT JOIN", () => {
  const tokens = tokenize("a JOIN b ON 1 RIGHT JOIN c ON 1");
  assert.equal(tableRefs(tokens, 0, tokens.length).map((r) => r.nullable), [true, true, false]);
});

test("parseSelect() finds FROM, WHERE and the clause after them in each arm", () => {
  const parsed = parseSelect("SELECT a FROM t WHERE x LIMIT 1");
  assert.equal(parsed.cores, [{ select: 0, from: 2, where: 4, tail: 6 }]);
  const compound = parseSelect("SELECT 1 FROM t UNION ALL VALUES (2) EXCEPT SELECT 3 ORDER BY 1");
  assert.ok(compound.compound);
  assert.equal(compound.cores.map((c) => c.select), [0, 11]);
  assert.equal(parseSelect("WITH recursive AS (SELECT 1) SELECT * FROM recursive").cteNames, [
    "recursive",
  ]);
});

test.run();
