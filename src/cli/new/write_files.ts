/**
 * Writes the files of `db-router new` all or nothing: no existing file is
 * ever replaced, and when one file cannot be written, the ones already
 * written (and the folders made for them) are removed again.
 *
 * Each file is written in full to a temporary name, then hard-linked to its
 * real name: linking fails if the name exists, even when another process
 * created it a moment ago, and a reader never sees half a file. Where the file
 * system has no hard links, an exclusive create (`wx`) takes its place.
 *
 * @module
 */
import { existsSync, linkSync, mkdirSync, rmdirSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** One file to create. */
export interface NewFile {
  /** Its absolute path. */
  path: string;
  /** Its text. */
  content: string;
}

/**
 * A file that is already there.
 *
 * @example
 * ```ts
 * import { FileExistsError } from "./write_files.ts";
 * new FileExistsError("alerts_db.ts").message; // 'Cannot create "alerts_db.ts": it already exists'
 * ```
 */
export class FileExistsError extends Error {
  /** The path, as given. */
  readonly path: string;

  /** Creates the error for `path`. */
  constructor(path: string) {
    super(`Cannot create "${path}": it already exists`);
    this.name = "FileExistsError";
    this.path = path;
  }
}

/**
 * Creates every file of `files`, making missing folders, or changes nothing
 * and throws: a {@linkcode FileExistsError} when a file exists, else the
 * file-system error.
 *
 * @example
 * ```ts ignore
 * import { writeAllOrNothing } from "./write_files.ts";
 * writeAllOrNothing([{ path: "/tmp/a.ts", content: "export {};\n" }]);
 * ```
 */
export function writeAllOrNothing(files: readonly NewFile[]): void {
  for (const file of files) if (existsSync(file.path)) throw new FileExistsError(file.path);
  const madeFolders: string[] = [];
  const written: string[] = [];
  try {
    for (const file of files) {
      makeFolders(dirname(file.path), madeFolders);
      createFile(file);
      written.push(file.path);
    }
  } catch (error) {
    for (const path of written.reverse()) tryTo(() => unlinkSync(path));
    for (const folder of madeFolders.reverse()) tryTo(() => rmdirSync(folder));
    if ((error as { code?: unknown }).code === "EEXIST") {
      throw new FileExistsError(files[written.length].path);
    }
    throw error;
  }
}

/** Makes `folder` and its missing parents, recording each one made. */
function makeFolders(folder: string, made: string[]): void {
  if (existsSync(folder)) return;
  makeFolders(dirname(folder), made);
  mkdirSync(folder);
  made.push(folder);
}

function createFile(file: NewFile): void {
  const temporary = join(
    dirname(file.path),
    `.${basename(file.path)}.${Date.now().toString(36)}${Math.random().toString(36).slice(2)}.tmp`,
  );
  writeFileSync(temporary, file.content, { flag: "wx" });
  try {
    linkSync(temporary, file.path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS" && code !== "EXDEV") {
      throw error;
    }
    try {
      writeFileSync(file.path, file.content, { flag: "wx" });
    } catch (failure) {
      // Created but not filled (a full disk): remove the half-written file.
      if ((failure as { code?: unknown }).code !== "EEXIST") tryTo(() => unlinkSync(file.path));
      throw failure;
    }
  } finally {
    tryTo(() => unlinkSync(temporary));
  }
}

function tryTo(action: () => void): void {
  try {
    action();
  } catch {
    // Best effort: the original error is the one to report.
  }
}
