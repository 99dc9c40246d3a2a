import { suite } from "uvu";
import * as assert from "uvu/assert";
import { tokenize } from "../src/sql/tokenizer.ts";
import { tableRefs } from "../src/scope/table_refs.ts";
import { coreAt, parseSelect } from "../src/scope/statement.ts";
import { tablesRead } from "../src/scope/references.ts";
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

test("tableRefs() gives each table's token index and the ON of its own LEFT JOIN", () => {
  const sql = "a LEFT JOIN main.b x ON x.id = a.id OR 1 JOIN c ON 1 LEFT JOIN d USING (id) " +
    "LEFT JOIN (e JOIN f ON 2) ON 3 LEFT JOIN (g RIGHT JOIN h ON 4) ON 5 " +
    "LEFT JOIN (i LEFT JOIN j ON 6) ON 7";
  const tokens = tokenize(sql);
  const refs = tableRefs(tokens, 0, tokens.length);
  assert.equal(refs.map((r) => tokens[r.at].text), [
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
  ]);
  const on = refs.map((r) =>
    r.filterOn && sql.slice(tokens[r.filterOn[0]].start, tokens[r.filterOn[1] - 1].end)
  );
  // d has USING; g, left of a RIGHT JOIN in its group, takes that ON; j has an ON of its own.
  assert.equal(on, [
    undefined,
    "x.id = a.id OR 1",
    undefined,
    undefined,
    "3",
    "3",
    "4",
    "5",
    "7",
    "6",
  ]);
});

test("tableRefs() reads a join word after a dot as a column name, not a join", () => {
  const sql = "a LEFT JOIN b ON b.left = a.right CROSS JOIN c";
  const tokens = tokenize(sql);
  const refs = tableRefs(tokens, 0, tokens.length);
  assert.equal(refs.map((r) => r.table), ["a", "b", "c"]);
  const [start, end] = refs[1].filterOn!;
  assert.is(sql.slice(tokens[start].start, tokens[end - 1].end), "b.left = a.right");
});

test("coreAt() finds each SELECT core at its own depth, up to its compound operator or )", () => {
  const sql = "SELECT (SELECT x FROM t WHERE y UNION SELECT z FROM u ORDER BY 1) FROM v WHERE w";
  const tokens = tokenize(sql);
  const starts = tokens.flatMap((t, i) => (t.text === "SELECT" ? [i] : []));
  const text = (i: number) => {
    const core = coreAt(tokens, i);
    return [
      sql.slice(tokens[core.select].start, tokens[core.tail - 1].end),
      core.from && tokens[core.from].text,
      core.where && tokens[core.where].text,
    ];
  };
  assert.equal(starts.map(text), [
    [
      "SELECT (SELECT x FROM t WHERE y UNION SELECT z FROM u ORDER BY 1) FROM v WHERE w",
      "FROM",
      "WHERE",
    ],
    ["SELECT x FROM t WHERE y", "FROM", "WHERE"],
    ["SELECT z FROM u", "FROM", undefined],
  ]);
});

test("tablesRead() lists the tables read anywhere, leaving out CTE names where they are CTEs", () => {
  const sql = "WITH bots AS (SELECT * FROM main.bots) SELECT * FROM bots, Code " +
    "WHERE x IN (SELECT id FROM [other] o) AND y = 'FROM secret' -- JOIN hidden";
  assert.equal(tablesRead(sql, parseSelect(sql)), ["bots", "code", "other"]);
  const shadowOnly = "WITH bots AS (SELECT 1) SELECT * FROM bots, (SELECT * FROM bots)";
  assert.equal(
    tablesRead(shadowOnly, parseSelect(shadowOnly)),
    [],
  );
});

test.run();
