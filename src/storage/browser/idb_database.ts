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
import { checkCommit, emptyStorageStats } from "../common.ts";
import type {
  LoadedImage,
  PageChanges,
  PageCommit,
  Release,
  StorageStats,
  StoredDatabase,
} from "../types.ts";
import type { CommitNotice } from "./commit_channel.ts";
import { type MetaRecord, type PageRecord, requestResult, transact } from "./idb.ts";
import { pagesToWrite, patch, randomEpoch, sinceCounter, stampOf } from "./page_records.ts";

/** What an {@linkcode IdbDatabase} needs from its adapter. */
export interface IdbContext {
  /** The adapter's open IndexedDB connection. */
  connect(): Promise<IDBDatabase>;
  /** `IDBKeyRange` of the same implementation. */
  readonly keyRange: typeof IDBKeyRange;
  /** The durability hint of commit transactions. */
  readonly durability: IDBTransactionDurability;
  /** Takes the write lock of `key`. */
  lock(key: string): Promise<Release>;
  /** The error to throw for `error` (a quota error becomes `STORAGE_QUOTA`). */
  fail(error: unknown, what: string): Promise<unknown>;
  /** Tells watchers about a commit. */
  announce(notice: CommitNotice): void;
  /** Calls `watcher` on every commit announced, here or in another tab. */
  watch(watcher: (notice: CommitNotice) => void): () => void;
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
export class IdbDatabase implements StoredDatabase {
  /** The database's key, such as `"shared/global.db"`. */
  readonly key: string;
  readonly #context: IdbContext;
  /** The stamp this handle last read or wrote; a commit from another stamp is refused. */
  #known: string | undefined;
  readonly #stats: StorageStats = emptyStorageStats();

  /** Binds the database under `key`; nothing is read until a call needs it. */
  constructor(context: IdbContext, key: string) {
    this.#context = context;
    this.key = key;
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
    this.#known = loaded.version;
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
    if (changes) this.#known = changes.version;
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
  async commit(commit: PageCommit): Promise<string> {
    checkCommit(this.key, commit);
    const started = performance.now();
    const db = await this.#context.connect();
    const known = this.#known;
    let written = 0;
    let stamp: string;
    try {
      stamp = await transact(db, ["meta", "pages"], "readwrite", async (tx) => {
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
        for (const [page, bytes] of pagesToWrite(old, commit)) {
          // A copy of just this page: a view would store the whole image's buffer.
          pages.put({ key: this.key, page, counter: meta.counter, data: bytes.slice() });
          written += bytes.length;
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
    } catch (error) {
      throw await this.#context.fail(error, `Cannot save database "${this.key}"`);
    }
    this.#known = stamp;
    this.#stats.commits++;
    this.#stats.bytesWritten += written;
    this.#stats.lastCommitBytes = written;
    this.#stats.lastCommitMs = performance.now() - started;
    this.#context.announce({ key: this.key, version: stamp });
    return stamp;
  }

  /** Takes the write lock, across tabs with Web Locks. */
  lock(): Promise<Release> {
    return this.#context.lock(this.key);
  }

  /** Nothing to fold: pages are stored in place. */
  compact(): Promise<void> {
    return Promise.resolve();
  }

  /** A copy of this handle's figures. */
  stats(): StorageStats {
    return { ...this.#stats };
  }

  /** Calls `notify` when another tab announces a commit to this database. */
  onForeignCommit(notify: () => void): () => void {
    return this.#context.watch((notice) => {
      if (notice.key === this.key && notice.version !== this.#known) notify();
    });
  }

  /** Nothing to release: the adapter owns the IndexedDB connection. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
