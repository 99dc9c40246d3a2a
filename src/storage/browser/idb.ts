/**
 * The IndexedDB schema of {@linkcode indexedDbStorage} and small promise
 * helpers around requests and transactions.
 *
 * One IndexedDB database holds every router database and record log:
 *
 * - `meta`: one record per database, `{ key, pageSize, pageCount, epoch, counter }`;
 *   the version stamp is `epoch:counter`, so `version()` is one `get`; beside
 *   them, the notes of a database's last 256 commits (`router.watch()`), as
 *   `{ key: "<key>\0note\0<counter, 12 digits>", note }` (see `idb_database.ts`):
 *   code that lists databases skips keys with a NUL;
 * - `pages`: one record per page, `{ key, page, counter, data }` under the
 *   key `[key, page]`, where `counter` is the commit that last wrote it; the
 *   index `changes` (`[key, counter]`) finds the pages written since a stamp;
 * - `records`: record log batches `{ log, lines }` under auto-increment keys,
 *   found in append order through the index `log`.
 *
 * @module
 */

/** The IndexedDB that an adapter runs on: the page's, or fake-indexeddb in tests. */
export interface IdbImplementation {
  /** Opens IndexedDB databases. */
  readonly indexedDB: IDBFactory;
  /** Builds key ranges; must come from the same implementation as `indexedDB`. */
  readonly IDBKeyRange: typeof IDBKeyRange;
}

/** The stored form of one database's header. */
export interface MetaRecord {
  key: string;
  pageSize: number;
  pageCount: number;
  /** Random per creation of the database, so that stamps never repeat. */
  epoch: string;
  /** Commits so far. */
  counter: number;
}

/** The stored form of one page. */
export interface PageRecord {
  key: string;
  page: number;
  counter: number;
  data: Uint8Array;
}

/** The stored form of one appended batch of record lines. */
export interface RecordBatch {
  log: string;
  lines: string[];
}

const SCHEMA_VERSION = 1;

/**
 * Opens (creating or upgrading) the adapter's IndexedDB database `name`.
 *
 * @example
 * ```ts ignore
 * const db = await openIdb(indexedDB, "db-router");
 * ```
 */
export function openIdb(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name, SCHEMA_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta", { keyPath: "key" });
      if (!db.objectStoreNames.contains("pages")) {
        const pages = db.createObjectStore("pages", { keyPath: ["key", "page"] });
        pages.createIndex("changes", ["key", "counter"]);
      }
      if (!db.objectStoreNames.contains("records")) {
        const records = db.createObjectStore("records", { autoIncrement: true });
        records.createIndex("log", "log");
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () =>
      reject(new Error(`IndexedDB "${name}" is held open by an older version of this page`));
  });
}

/**
 * The result of `request`, as a promise. Awaiting it inside a transaction's
 * body keeps the transaction active.
 *
 * @example
 * ```ts ignore
 * const meta = await requestResult(tx.objectStore("meta").get(key));
 * ```
 */
export function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Runs `body` in one transaction and resolves with its result once the
 * transaction has committed; a throw in `body` aborts it, and an abort (a
 * quota error at commit, say) rejects with the transaction's error. `body`
 * may await only requests of `tx`, or the transaction ends early.
 *
 * @example
 * ```ts ignore
 * const count = await transact(db, ["meta"], "readonly", (tx) =>
 *   requestResult(tx.objectStore("meta").count()));
 * ```
 */
export function transact<T>(
  db: IDBDatabase,
  stores: string[],
  mode: IDBTransactionMode,
  body: (tx: IDBTransaction) => Promise<T>,
  durability: IDBTransactionDurability = "default",
): Promise<T> {
  const tx = db.transaction(stores, mode, { durability });
  const committed = new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException("Transaction aborted", "AbortError"));
  });
  const ran = body(tx).catch((error) => {
    try {
      tx.abort();
    } catch {
      // Already finished or aborting: the error below is the one to report.
    }
    throw error;
  });
  return Promise.all([ran, committed]).then(([result]) => result);
}
