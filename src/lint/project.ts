/**
 * Where a file sits in its project: the nearest folder above it holding a
 * `package.json`, `deno.json` or `deno.jsonc`, and the package's name. The
 * allowlist matches paths relative to that folder, so the lint plugin and
 * `db-router check` agree whatever the working directory.
 *
 * File access is passed in, so the same code serves the Deno plugin and the
 * CLI in every runtime.
 *
 * @module
 */

/** The file-system calls {@linkcode locateInProject} needs. */
export interface ProjectProbe {
  /** The text of `path`, or `undefined` when there is no such file. */
  readText(path: string): string | undefined;
}

/** A file's place in its project. */
export interface ProjectLocation {
  /** The project folder (`/`-separated, no trailing `/`). */
  root: string;
  /** The file's path from `root`, `/`-separated. */
  relativePath: string;
  /** The `name` of the root's `package.json` or `deno.json`, if any. */
  packageName?: string;
}

const MANIFESTS = ["package.json", "deno.json", "deno.jsonc"];

/**
 * Finds the project of the absolute path `file`. Without any manifest above
 * it, the file's own folder counts as the root. `cache` (folder to result)
 * spares repeated look-ups across files.
 *
 * @example
 * ```ts
 * import { locateInProject } from "./project.ts";
 * const files: Record<string, string> = { "/app/package.json": '{"name":"app"}' };
 * locateInProject("/app/src/db.ts", { readText: (p) => files[p] });
 * // { root: "/app", relativePath: "src/db.ts", packageName: "app" }
 * ```
 */
export function locateInProject(
  file: string,
  probe: ProjectProbe,
  cache: Map<string, { root: string; packageName?: string }> = new Map(),
): ProjectLocation {
  const path = file.replaceAll("\\", "/");
  const start = parentOf(path);
  const visited: string[] = [];
  let found: { root: string; packageName?: string } | undefined;
  for (let dir: string | undefined = start; dir !== undefined; dir = parentOf(dir)) {
    found = cache.get(dir) ?? manifestAt(dir, probe);
    visited.push(dir);
    if (found) break;
  }
  found ??= { root: start ?? "" };
  for (const dir of visited) cache.set(dir, found);
  const prefix = found.root === "" ? "" : `${found.root.replace(/\/$/, "")}/`;
  const relativePath = path.startsWith(prefix) ? path.slice(prefix.length) : path;
  return { ...found, relativePath };
}

function manifestAt(
  dir: string,
  probe: ProjectProbe,
): { root: string; packageName?: string } | undefined {
  for (const manifest of MANIFESTS) {
    const text = probe.readText(`${dir.replace(/\/$/, "")}/${manifest}`);
    if (text === undefined) continue;
    return { root: dir, packageName: nameIn(text) };
  }
  return undefined;
}

/** A manifest's `name`; a malformed manifest has none (the linter is not its validator). */
function nameIn(text: string): string | undefined {
  try {
    const name = (JSON.parse(text) as { name?: unknown }).name;
    return typeof name === "string" ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The folder holding `path`, or `undefined` at the top (`/` or `C:/`). */
function parentOf(path: string): string | undefined {
  if (path === "/" || /^[A-Za-z]:\/$/.test(path)) return undefined;
  const slash = path.lastIndexOf("/");
  if (slash < 0) return undefined;
  const parent = path.slice(0, slash);
  return parent === "" || /^[A-Za-z]:$/.test(parent) ? `${parent}/` : parent;
}
