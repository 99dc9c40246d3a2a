/**
 * Optional peer dependencies (`src/optional.ts`): a package that is not
 * installed is a `PACKAGE_MISSING` error naming it; an installed one loads.
 * The consumer-project cases (no `@libsql/client`, no `@babel/parser`) are in
 * `package.test.ts`.
 *
 * @module
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { RouterError } from "../mod.ts";
import { importOptional } from "../src/optional.ts";
import { currentRuntime } from "./_support/spawn.ts";

const test = suite(`optional packages (${currentRuntime()})`);

test("a package that is not installed is PACKAGE_MISSING, naming it and how to install it", async () => {
  let caught: unknown;
  try {
    await importOptional({
      name: "db-router-no-such-package",
      range: "^1.0.0",
      purpose: "test optional imports",
    });
  } catch (error) {
    caught = error;
  }
  assert.instance(caught, RouterError);
  const error = caught as RouterError;
  assert.is(error.code, "PACKAGE_MISSING");
  assert.is(
    error.message,
    'Cannot test optional imports: the package "db-router-no-such-package" is not installed ' +
      "(install it: npm install db-router-no-such-package)",
  );
  assert.ok(error.cause, "the import's own error is kept as the cause");
});

test("an installed optional package loads", async () => {
  const babel = await importOptional<{ parse: unknown }>({
    name: "@babel/parser",
    range: "^7.29.15",
    purpose: "check files",
  });
  assert.type(babel.parse, "function");
});

test.run();
