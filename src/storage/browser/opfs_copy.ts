/**
 * Moving a database from IndexedDB storage to OPFS storage, on request: the
 * default browser storage never migrates by itself (`choose.ts`).
 *
 * @module
 */
import { RouterError } from "../../errors.ts";
import type { StorageAdapter } from "../types.ts";
import { openIdb, requestResult, transact } from "./idb.ts";
import { indexedDbStorage } from "./indexeddb.ts";
import { opfsStorage } from "./opfs.ts";

/** Options of {@linkcode copyIndexedDbToOpfs}. */
export interface CopyToOpfsOptions {
  /**
   * The IndexedDB database to copy from (the `name` of its `indexedDbStorage`).
   * @default "db-router"
   */
  from?: string;
  /**
   * The OPFS storage to copy to.
   * @default opfsStorage({ name: from })
   */
  to?: StorageAdapter;
  /**
   * The databases to copy, by key.
   * @default every database in the IndexedDB database
   */
  keys?: readonly string[];
}

/** What {@linkcode copyIndexedDbToOpfs} did. */
export interface CopyToOpfsResult {
  /** Keys copied. */
  readonly copied: string[];
  /** Keys left alone because OPFS already has a database under them. */
  readonly skipped: string[];
}

/**
 * Copies databases from IndexedDB storage into OPFS storage, each under both
 * write locks, and checks each copy byte for byte. The IndexedDB pages stay
 * (delete the IndexedDB database when you no longer want them); from then on
 * the default storage opens the OPFS copy, since it prefers OPFS where a
 * database exists in both. Record logs are not moved: both adapters keep them
 * in the same IndexedDB database.
 *
 * @example
 * ```ts ignore
 * import { copyIndexedDbToOpfs } from "db-router";
 * const { copied } = await copyIndexedDbToOpfs(); // before the first router opens
 * ```
 */
export async function copyIndexedDbToOpfs(
  options: CopyToOpfsOptions = {},
): Promise<CopyToOpfsResult> {
  const from = options.from ?? "db-router";
  const source = indexedDbStorage({ name: from, persist: false });
  const target = options.to ?? opfsStorage({ name: from });
  const keys = options.keys?.map((key) => source.resolve(key)) ?? await storedKeys(from);
  const result: CopyToOpfsResult = { copied: [], skipped: [] };
  for (const key of keys) {
    const reading = await source.open(key);
    const writing = await target.open(target.resolve(key));
    const releaseSource = await reading.lock();
    try {
      const releaseTarget = await writing.lock();
      try {
        if ((await writing.version()) !== "0") {
          result.skipped.push(key);
          continue;
        }
        const { image } = await reading.load();
        if (!image) continue;
        const pageSize = sqlitePageSize(image);
        const pages: Array<[number, Uint8Array]> = [];
        for (let at = 0; at < image.length; at += pageSize) {
          pages.push([at / pageSize + 1, image.subarray(at, at + pageSize)]);
        }
        await writing.commit({ pageSize, pageCount: pages.length, pages });
        const copy = (await writing.load()).image;
        if (!copy || copy.length !== image.length || copy.some((byte, i) => byte !== image[i])) {
          throw new RouterError(
            "DATABASE_CORRUPT",
            `Cannot copy database "${key}" to OPFS: the copy does not read back byte for byte`,
          );
        }
        result.copied.push(key);
      } finally {
        await releaseTarget();
      }
    } finally {
      await releaseSource();
    }
  }
  return result;
}

async function storedKeys(name: string): Promise<string[]> {
  const { isNoteKey } = await import("./idb_database.ts"); // not parsed at the package's import
  const db = await openIdb(indexedDB, name);
  try {
    const keys = await transact(
      db,
      ["meta"],
      "readonly",
      (tx) => requestResult(tx.objectStore("meta").getAllKeys()),
    );
    // Commit notes (router.watch()) share the store under keys with a NUL, which no database has.
    return keys.map(String).filter((key) => !isNoteKey(key));
  } finally {
    db.close();
  }
}

function sqlitePageSize(image: Uint8Array): number {
  const raw = image.length >= 18 ? (image[16] << 8) | image[17] : 0;
  return raw === 1 ? 65536 : raw || 4096;
}
