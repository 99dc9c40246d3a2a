/**
 * `db-router check` over files and folders: finds the JavaScript and
 * TypeScript files, skips the allowlisted ones, and checks the rest.
 *
 * Folders are walked without following symbolic links, skipping
 * `node_modules`, `dist` and folders whose name starts with a dot; a file or
 * folder named on the command line is checked even if it is one of those.
 *
 * @module
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { isAllowlisted } from "../../lint/allowlist.ts";
import { locateInProject } from "../../lint/project.ts";
import { UsageError } from "../command.ts";
import { checkSource, type Finding } from "./check_source.ts";
import { dialectOf } from "./parse.ts";

/** What a path is. */
export type PathKind = "file" | "directory" | "other";

/** The file-system calls of a check, replaceable in tests. */
export interface CheckFileSystem {
  /** What `path` is (following links), or `undefined` when nothing is there. */
  kindOf(path: string): PathKind | undefined;
  /** The entries of a folder, not following links (a link is `"other"`); throws when unreadable. */
  list(dir: string): { name: string; kind: PathKind }[];
  /** A file's text; throws when unreadable. */
  readText(path: string): string;
}

/** Options of {@linkcode runCheck}. */
export interface CheckOptions {
  /** Where relative targets start, and what shown paths are relative to. */
  cwd: string;
  /** Extra allowlist globs, relative to each file's project root (`--allow`). */
  allow?: readonly string[];
  /** @default the real file system, through `node:fs` */
  fs?: CheckFileSystem;
}

/** The outcome of {@linkcode runCheck}. */
export interface CheckReport {
  /** Offences, unparsable and unreadable files, in path order. */
  findings: Finding[];
  /** Files that were read and checked. */
  checked: number;
  /** Files skipped because the allowlist covers them. */
  allowed: number;
}

/** Folder names never walked into (unless named as a target). */
const SKIPPED_FOLDERS = new Set(["node_modules", "dist"]);

/**
 * Checks `targets` (files or folders; none means the working directory).
 * Throws a `UsageError` for a target that does not exist, or a named file
 * that is not JavaScript or TypeScript; named `.d.ts` files are skipped.
 *
 * @example
 * ```ts ignore
 * import { runCheck } from "./run.ts";
 * const report = runCheck(["src"], { cwd: process.cwd() });
 * report.findings.length === 0; // clean
 * ```
 */
export function runCheck(targets: readonly string[], options: CheckOptions): CheckReport {
  const fs = options.fs ?? nodeFileSystem;
  const report: CheckReport = { findings: [], checked: 0, allowed: 0 };
  const files: string[] = [];
  const named = targets.length === 0 ? ["."] : targets;
  for (const target of named) {
    const path = resolve(options.cwd, target);
    const kind = fs.kindOf(path);
    if (kind === undefined) {
      throw new UsageError(`Cannot check "${target}": no such file or directory`);
    }
    if (kind === "directory") {
      collect(path, fs, files, report, options.cwd);
    } else if (dialectOf(path) !== undefined) {
      files.push(path);
    } else if (/\.d\.[cm]?ts$/.test(path)) {
      continue; // A declaration file runs nothing; hooks may name it among staged files.
    } else {
      throw new UsageError(`Cannot check "${target}": not a JavaScript or TypeScript file`);
    }
  }
  const projects = new Map<string, { root: string; packageName?: string }>();
  const probe = { readText: (path: string) => readOptional(fs, path) };
  for (const file of new Set(files)) {
    const where = locateInProject(file, probe, projects);
    if (isAllowlisted(where.relativePath, where.packageName, options.allow)) {
      report.allowed++;
      continue;
    }
    const shown = display(file, options.cwd);
    let source: string;
    try {
      source = fs.readText(file);
    } catch (error) {
      report.findings.push(unreadable(shown, error));
      continue;
    }
    report.checked++;
    report.findings.push(...checkSource(source, shown));
  }
  return report;
}

/**
 * The real file system, through `node:fs`.
 *
 * @example
 * ```ts ignore
 * import { nodeFileSystem } from "./run.ts";
 * nodeFileSystem.kindOf("src"); // "directory"
 * ```
 */
export const nodeFileSystem: CheckFileSystem = {
  kindOf(path) {
    try {
      const stat = statSync(path);
      return stat.isFile() ? "file" : stat.isDirectory() ? "directory" : "other";
    } catch {
      return undefined;
    }
  },
  list(dir) {
    return readdirSync(dir, { withFileTypes: true }).map((entry) => ({
      name: entry.name,
      kind: entry.isFile() ? "file" : entry.isDirectory() ? "directory" : "other",
    }));
  },
  readText(path) {
    return readFileSync(path, "utf8");
  },
};

function collect(
  dir: string,
  fs: CheckFileSystem,
  files: string[],
  report: CheckReport,
  cwd: string,
): void {
  let entries;
  try {
    entries = fs.list(dir).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    report.findings.push(unreadable(display(dir, cwd), error));
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.kind === "directory") {
      if (!SKIPPED_FOLDERS.has(entry.name) && !entry.name.startsWith(".")) {
        collect(path, fs, files, report, cwd);
      }
    } else if (entry.kind === "file" && dialectOf(entry.name) !== undefined) {
      files.push(path);
    }
  }
}

function readOptional(fs: CheckFileSystem, path: string): string | undefined {
  try {
    return fs.kindOf(path) === "file" ? fs.readText(path) : undefined;
  } catch {
    return undefined;
  }
}

function unreadable(path: string, error: unknown): Finding {
  // Node says "EACCES: permission denied, open '/abs/x.ts'": the path is already in front.
  const reason = error instanceof Error
    ? error.message.replace(/, \w+ '[^']*'$/, "")
    : String(error);
  return {
    path,
    line: 1,
    column: 1,
    kind: "unreadable",
    message: `Cannot read "${path}": ${reason}`,
  };
}

/** `path` relative to `cwd` when inside it, else absolute. */
function display(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  if (rel === "") return ".";
  return rel.startsWith(`..${sep}`) || rel === ".." || isAbsolute(rel) ? path : rel;
}
