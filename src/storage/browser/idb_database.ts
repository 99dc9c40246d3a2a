/**
 * One database kept in IndexedDB, one record per page (the schema is in
 * `idb.ts`). A commit is one readwrite transaction over `meta` and `pages`:
 * it checks that nobody committed since this handle last read, puts the
 * changed pages, deletes pages past a smaller page count and bumps the
 * counter in `meta`. IndexedDB applies all of it or none of it, so a tab
 * closed or crashing mid-commit leaves the previous version.
 *
 * @module
 */
import { DatabaseCorruptError } from "../../errors.ts";
import type { LoadedImage, PageChanges, PageCommit } from "../types.ts";
import { type BrowserContext, BrowserDatabase, type Written } from "./browser_database.ts";
import { type MetaRecord, type PageRecord, requestResult, transact } from "./idb.ts";
import { pagesToWrite, patch, randomEpoch, sinceCounter, stampOf } from "./page_records.ts";

/** What an {@linkcode IdbDatabase} needs from its adapter. */
export interface IdbContext extends BrowserContext {
  /** The adapter's open IndexedDB connection. */
  connect(): Promise<IDBDatabase>;
  /** `IDBKeyRange` of the same implementation. */
  readonly keyRange: typeof IDBKeyRange;
  /** The durability hint of commit transactions. */
  readonly durability: IDBTransactionDurability;
}

/**
 * Commit notes are kept for this many commits per database: a tab that falls
 * further behind hears a resync instead of rows (see `router.watch()`).
 */
export const NOTES_KEPT = 256;

/**
 * A commit's note, in the `meta` store beside the database's meta record
 * (a store of its own would need a schema upgrade that older tabs block).
 */
interface NoteRecord {
  key: string;
  note: Uint8Array;
}

/**
 * Whether `key`, a key of the `meta` store, is a commit note's rather than a
 * database's (database keys never hold a NUL character).
 *
 * @example
 * ```ts
 * import { isNoteKey } from "./idb_database.ts";
 * isNoteKey("shared/global.db"); // false
 * ```
 */
export function isNoteKey(key: string): boolean {
  return key.includes("\u0000");
}

/** The key of the note of commit `counter`: sorts by counter within the database. */
function noteKey(key: string, counter: number): string {
  return `${key}\u0000note\u0000${String(counter).padStart(12, "0")}`;
}

/**
 * A database stored as page records.
 *
 * @example
 * ```ts ignore
 * const db = new IdbDatabase(context, "shared/global.db");
 * const { image, version } = await db.load();
 * ```
 */
export class IdbDatabase extends BrowserDatabase {
  readonly #context: IdbContext;

  /** Binds the database under `key`; nothing is read until a call needs it. */
  constructor(context: IdbContext, key: string) {
    super(context, key);
    this.#context = context;
  }

  /** Reads the whole image. */
  async load(): Promise<LoadedImage> {
    const db = await this.#context.connect();
    const loaded = await transact(db, ["meta", "pages"], "readonly", async (tx) => {
      const meta: MetaRecord | undefined = await requestResult(
        tx.objectStore("meta").get(this.key),
      );
      if (!meta) return { image: null, version: "0" };
      const all: PageRecord[] = await requestResult(
        tx.objectStore("pages").getAll(
          this.#context.keyRange.bound([this.key, 1], [this.key, meta.pageCount]),
        ),
      );
      const image = patch(new Uint8Array(0), meta, all);
      if (!image) throw new DatabaseCorruptError(this.key, "pages are missing from IndexedDB");
      return { image, version: stampOf(meta) };
    });
    this.known = loaded.version;
    return loaded;
  }

  /** The pages committed after `version`: the records whose counter is newer. */
  async changesSince(version: string): Promise<PageChanges | undefined> {
    const db = await this.#context.connect();
    const changes = await transact(db, ["meta", "pages"], "readonly", async (tx) => {
      const meta: MetaRecord | undefined = await requestResult(
        tx.objectStore("meta").get(this.key),
      );
      const from = meta && sinceCounter(version, meta);
      if (!meta || from === undefined) return undefined;
      const range = this.#context.keyRange;
      const changed: PageRecord[] = from === meta.counter ? [] : await requestResult(
        tx.objectStore("pages").index("changes").getAll(
          range.bound([this.key, from + 1], [this.key, Infinity]),
        ),
      );
      const pages = changed
        .filter((record) => record.page <= meta.pageCount)
        .map((record) => [record.page, record.data] as [number, Uint8Array])
        .sort((a, b) => a[0] - b[0]);
      const stored: NoteRecord[] = from === meta.counter ? [] : await requestResult(
        tx.objectStore("meta").getAll(
          range.bound(noteKey(this.key, from + 1), noteKey(this.key, meta.counter)),
        ),
      );
      const byKey = new Map(stored.map((record) => [record.key, record.note]));
      const notes: Array<Uint8Array | null> = [];
      for (let counter = from + 1; counter <= meta.counter; counter++) {
        notes.push(byKey.get(noteKey(this.key, counter)) ?? null);
      }
      return {
        version: stampOf(meta),
        pageSize: meta.pageSize,
        pageCount: meta.pageCount,
        pages,
        notes,
      };
    });
    if (changes) this.known = changes.version;
    return changes;
  }

  /** The version stamp: one `get` of the database's meta record. */
  async version(): Promise<string> {
    const db = await this.#context.connect();
    const meta = await transact(
      db,
      ["meta"],
      "readonly",
      (tx) => requestResult<MetaRecord | undefined>(tx.objectStore("meta").get(this.key)),
    );
    return meta ? stampOf(meta) : "0";
  }

  /** Writes the changed pages and the new meta record in one transaction. */
  protected async write(commit: PageCommit): Promise<Written> {
    const db = await this.#context.connect();
    const known = this.known;
    let bytes = 0;
    const stamp = await transact(db, ["meta", "pages"], "readwrite", async (tx) => {
      const metaStore = tx.objectStore("meta");
      const old: MetaRecord | undefined = await requestResult(metaStore.get(this.key));
      if (known !== undefined && (old ? stampOf(old) : "0") !== known) {
        throw new Error("another tab committed since this one read it");
      }
      const meta: MetaRecord = {
        key: this.key,
        pageSize: commit.pageSize,
        pageCount: commit.pageCount,
        epoch: old?.epoch ?? randomEpoch(),
        counter: (old?.counter ?? 0) + 1,
      };
      const pages = tx.objectStore("pages");
      for (const [page, data] of pagesToWrite(old, commit)) {
        // A copy of just this page: a view would store the whole image's buffer.
        pages.put({ key: this.key, page, counter: meta.counter, data: data.slice() });
        bytes += data.length;
      }
      if (old && old.pageCount > meta.pageCount) {
        pages.delete(this.#context.keyRange.bound([this.key, meta.pageCount + 1], [
          this.key,
          Infinity,
        ]));
      }
      metaStore.put(meta);
      if (commit.note) {
        const note: NoteRecord = {
          key: noteKey(this.key, meta.counter),
          note: commit.note.slice(),
        };
        metaStore.put(note);
      }
      if (meta.counter > NOTES_KEPT) {
        metaStore.delete(noteKey(this.key, meta.counter - NOTES_KEPT));
      }
      return stampOf(meta);
    }, this.#context.durability);
    return { stamp, bytes };
  }

  /** Nothing to fold: pages are stored in place. */
  compact(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing to release or fold: the adapter owns the IndexedDB connection. */
  override close(): Promise<void> {
    return Promise.resolve();
  }
}
