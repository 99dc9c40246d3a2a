/**
 * The `no-direct-database` rule itself, shared by the Deno lint plugin and
 * `db-router check`: it is fed the nodes of one file, in source order, and
 * then reports every direct use of sql.js.
 *
 * What counts as direct use:
 * - importing sql.js: `import`, `import x = require()`, `require()`,
 *   `import()`, re-exports (`export ... from`); type-only imports and
 *   re-exports are fine, as they vanish at compile time;
 * - calling sql.js's initialiser: `initSqlJs()` (also as a global, as a
 *   browser `<script>` defines it), any alias of the package's default
 *   export, or the router's internal `loadSqlJs()`;
 * - `new X.Database()` where `X` is what such a call resolved to, and `new D()`
 *   where `D` was destructured from it.
 *
 * Names are followed through `const`/`let` declarations, assignments,
 * destructuring and `.then((SQL) => ...)` callbacks, per file and ignoring
 * scopes: a local variable that shadows one of these names is treated alike.
 * Comments and strings are never code, so they never match.
 *
 * @module
 */
import {
  type AstNode,
  child,
  children,
  endOf,
  identifierName,
  memberName,
  startOf,
  staticString,
  text,
  unwrap,
} from "./ast.ts";
import { type Offence, OFFENCE_MESSAGES, type OffenceKind } from "./offence.ts";
import { isRouterLoaderSpecifier, isSqlJsSpecifier } from "./specifier.ts";

/**
 * The node types the detector must be fed; the Deno plugin subscribes to exactly these.
 *
 * @example
 * ```ts
 * import { WATCHED_NODE_TYPES } from "./detector.ts";
 * WATCHED_NODE_TYPES.includes("ImportExpression"); // true
 * ```
 */
export const WATCHED_NODE_TYPES: readonly string[] = Object.freeze([
  "ImportDeclaration",
  "TSImportEqualsDeclaration",
  "ExportNamedDeclaration",
  "ExportAllDeclaration",
  "ImportExpression",
  "CallExpression",
  "OptionalCallExpression",
  "NewExpression",
  "VariableDeclarator",
  "AssignmentExpression",
]);

/** What a name or expression holds, as far as sql.js goes. */
type Held = "init" | "module" | "namespace" | "constructor";

interface Binding {
  target: AstNode;
  value: AstNode;
  /** Set for `.then((SQL) => ...)`: the callback parameter holds what the promise resolves to. */
  resolved?: boolean;
}

/**
 * Collects what one file does with sql.js. Call {@linkcode visit} with every
 * node of a type in {@linkcode WATCHED_NODE_TYPES} (others are ignored), in
 * source order, then {@linkcode finish} once.
 *
 * @example
 * ```ts
 * import { DirectDatabaseDetector } from "./detector.ts";
 * const detector = new DirectDatabaseDetector();
 * detector.visit({ type: "ImportExpression", source: { type: "Literal", value: "sql.js" }, range: [0, 16] } as never);
 * detector.finish().map((o) => o.kind); // ["dynamic-import"]
 * ```
 */
export class DirectDatabaseDetector {
  readonly #offences: Offence[] = [];
  readonly #held = new Map<string, Held>([["initSqlJs", "init"]]);
  readonly #bindings: Binding[] = [];
  readonly #calls: AstNode[] = [];
  readonly #news: AstNode[] = [];

  /** Feeds one node. */
  visit(node: AstNode): void {
    switch (node.type) {
      case "ImportDeclaration":
        return this.#importDeclaration(node);
      case "TSImportEqualsDeclaration":
        return this.#importEquals(node);
      case "ExportNamedDeclaration":
      case "ExportAllDeclaration":
        if (text(node, "exportKind") !== "type" && isSqlJs(child(node, "source"))) {
          this.#report("re-export", node);
        }
        return;
      case "ImportExpression":
        if (isSqlJs(child(node, "source"))) this.#report("dynamic-import", node);
        return;
      case "CallExpression":
      case "OptionalCallExpression":
        return this.#call(node);
      case "NewExpression":
        this.#news.push(node);
        return;
      case "VariableDeclarator":
        return this.#bind(child(node, "id"), child(node, "init"));
      case "AssignmentExpression":
        if (text(node, "operator") === "=") this.#bind(child(node, "left"), child(node, "right"));
        return;
    }
  }

  /** Resolves names across the whole file and returns the offences in source order. */
  finish(): Offence[] {
    this.#resolveBindings();
    for (const call of this.#calls) {
      if (this.#isInitCall(call)) this.#report("init", call);
    }
    for (const expression of this.#news) {
      const callee = unwrap(child(expression, "callee"));
      const direct = this.#holds(callee) === "constructor";
      const member = memberName(callee) === "Database" &&
        this.#holds(child(callee!, "object")) === "module";
      if (direct || member) this.#report("new", expression);
    }
    return this.#offences.sort((a, b) => a.offset - b.offset);
  }

  #importDeclaration(node: AstNode): void {
    const source = staticString(child(node, "source"));
    if (source === undefined || text(node, "importKind") === "type") return;
    if (isRouterLoaderSpecifier(source)) {
      for (const specifier of children(node, "specifiers")) {
        const imported = child(specifier, "imported");
        const name = identifierName(imported) ?? staticString(imported);
        if (name === "loadSqlJs") this.#hold(child(specifier, "local"), "init");
      }
      return;
    }
    if (!isSqlJsSpecifier(source)) return;
    this.#report("import", node);
    for (const specifier of children(node, "specifiers")) {
      const local = child(specifier, "local");
      if (specifier.type === "ImportDefaultSpecifier") this.#hold(local, "init");
      if (specifier.type === "ImportNamespaceSpecifier") this.#hold(local, "namespace");
      const imported = child(specifier, "imported");
      if ((identifierName(imported) ?? staticString(imported)) === "default") {
        this.#hold(local, "init");
      }
    }
  }

  #importEquals(node: AstNode): void {
    const reference = child(node, "moduleReference");
    if (reference?.type !== "TSExternalModuleReference") return;
    if (text(node, "importKind") === "type" || !isSqlJs(child(reference, "expression"))) return;
    this.#report("import", node);
    this.#hold(child(node, "id"), "init");
  }

  #call(node: AstNode): void {
    const callee = unwrap(child(node, "callee"));
    if (identifierName(callee) === "require" && isSqlJs(children(node, "arguments")[0])) {
      this.#report("require", node);
    }
    this.#calls.push(node);
    if (memberName(callee) === "then") {
      const callback = children(node, "arguments")[0];
      const parameter = callback ? children(callback, "params")[0] : undefined;
      if (parameter) {
        this.#bindings.push({
          target: parameter,
          value: child(callee!, "object")!,
          resolved: true,
        });
      }
    }
  }

  #bind(target: AstNode | undefined, value: AstNode | undefined): void {
    if (target && value) this.#bindings.push({ target, value });
  }

  /** Repeats until no binding adds anything, so declaration order does not matter. */
  #resolveBindings(): void {
    for (let changed = true; changed;) {
      changed = false;
      for (const { target, value, resolved } of this.#bindings) {
        let held = this.#holds(value);
        // A promise of the module resolves to the module: `init().then((SQL) => ...)`.
        if (resolved && held !== "module" && held !== "namespace") held = undefined;
        if (held && this.#assign(target, held)) changed = true;
      }
    }
  }

  /** Records what `target` (a name or a destructuring pattern) now holds; `true` if that is new. */
  #assign(target: AstNode, held: Held): boolean {
    if (target.type === "Identifier") return this.#hold(target, held);
    if (target.type === "AssignmentPattern") return this.#assign(child(target, "left")!, held);
    if (target.type !== "ObjectPattern") return false;
    let added = false;
    for (const property of children(target, "properties")) {
      const key = child(property, "key");
      const name = identifierName(key) ?? staticString(key);
      const value = child(property, "value");
      if (!value) continue;
      const part: Held | undefined = held === "module" && name === "Database"
        ? "constructor"
        : held !== "module" && name === "default"
        ? "init"
        : undefined;
      if (part && this.#assign(value, part)) added = true;
    }
    return added;
  }

  #hold(identifier: AstNode | undefined, held: Held): boolean {
    const name = identifierName(identifier);
    if (name === undefined || this.#held.get(name) === held) return false;
    this.#held.set(name, held);
    return true;
  }

  /** What `node` evaluates to, sql.js-wise. */
  #holds(node: AstNode | undefined): Held | undefined {
    const expression = unwrap(node);
    if (!expression) return undefined;
    switch (expression.type) {
      case "Identifier":
        return this.#held.get(identifierName(expression)!);
      case "ImportExpression":
        return isSqlJs(child(expression, "source")) ? "namespace" : undefined;
      case "CallExpression":
      case "OptionalCallExpression": {
        if (this.#isInitCall(expression)) return "module";
        const callee = unwrap(child(expression, "callee"));
        const required = identifierName(callee) === "require" &&
          isSqlJs(children(expression, "arguments")[0]);
        return required ? "init" : undefined;
      }
      case "MemberExpression":
      case "OptionalMemberExpression": {
        const name = memberName(expression);
        const object = this.#holds(child(expression, "object"));
        if (name === "default" && (object === "namespace" || object === "init")) return "init";
        if (name === "Database" && object === "module") return "constructor";
        if (name === "initSqlJs") return "init";
        return undefined;
      }
    }
    return undefined;
  }

  #isInitCall(call: AstNode): boolean {
    return this.#holds(child(call, "callee")) === "init";
  }

  #report(kind: OffenceKind, node: AstNode): void {
    const offset = startOf(node);
    if (this.#offences.some((o) => o.offset === offset && o.kind === kind)) return;
    this.#offences.push({ kind, offset, end: endOf(node), message: OFFENCE_MESSAGES[kind] });
  }
}

function isSqlJs(node: AstNode | undefined): boolean {
  const specifier = staticString(node);
  return specifier !== undefined && isSqlJsSpecifier(specifier);
}
