/**
 * The engine's side of `router.watch()` for one database: the recorder of
 * row changes, the sinks that hear commits, and what they hear after a commit
 * here, a catch-up with other processes' commits, or a reload.
 *
 * @module
 */
import type { SqlJsDatabase, SqlJsStatic } from "../engine/sqljs_types.ts";
import type { PageChanges } from "../storage/types.ts";
import { ownersLate } from "./late_owners.ts";
import { encodeNote, encodeUniformNote, type ReadNote, readNote } from "./note.ts";
import { ChangeRecorder, type RecorderMark } from "./recorder.ts";
import type { CommitRows } from "./rows.ts";
import type { CommitSink } from "./subscription.ts";

/**
 * Whether commits record their rows, given `DB_ROUTER_WATCH` (`"off"`: no
 * update hook, no triggers, no notes; watchers then hear nothing).
 *
 * @example
 * ```ts
 * import { watchWanted } from "./hub.ts";
 * watchWanted("off"); // false
 * watchWanted(undefined); // true
 * ```
 */
export function watchWanted(variable: string | undefined): boolean {
  return variable?.trim().toLowerCase() !== "off";
}

/**
 * Commits of one database, recorded and told to its sinks.
 *
 * @example
 * ```ts ignore
 * const hub = new WatchHub(true);
 * hub.attach(db);
 * const mark = hub.mark(db); // before each write
 * const rows = hub.take();
 * // ... commit, then:
 * hub.committed(rows);
 * ```
 */
export class WatchHub {
  readonly #recorder: ChangeRecorder | undefined;
  readonly #sinks = new Set<CommitSink>();
  /**
   * Whether commits are recorded with no sink here: other processes may
   * watch (storage they share), as the adapter last told; `"unscoped"` when
   * none of them tells rows apart by owner (no owner lookup for them).
   */
  #others: boolean | "unscoped";
  /** Whether the rows last taken had their owners looked up (for the note's kind). */
  #ownersKnown = true;
  /** The note of the rows last taken, when {@linkcode take} encoded it itself. */
  #uniformNote: Uint8Array | undefined;
  /** The database the recorder is attached to, if any. */
  #attached: SqlJsDatabase | undefined;
  /** sql.js's module, as {@linkcode attach} last named it. */
  #sql: SqlJsStatic | undefined;
  /** The database to attach at its first write (see {@linkcode attach}), if any. */
  #deferred: SqlJsDatabase | undefined;

  /**
   * With `record` false, nothing is ever recorded (`DB_ROUTER_WATCH=off`).
   * With `shared` (storage that other processes share, and may watch),
   * every commit is recorded until {@linkcode othersWatch} says that nobody
   * watches; else only while a sink listens here.
   */
  constructor(record: boolean, shared: boolean) {
    this.#recorder = record ? new ChangeRecorder() : undefined;
    this.#others = shared;
  }

  /**
   * The storage adapter told whether any process watches (`db`: the open
   * database; `"unscoped"`: only watchers that need no owners); recording
   * starts or stops accordingly, unless a sink here listens.
   */
  othersWatch(db: SqlJsDatabase, watching: boolean | "unscoped"): void {
    if (watching === this.#others) return;
    const wasRecording = this.#others !== false;
    this.#others = watching;
    if (this.#sinks.size > 0 || wasRecording === (watching !== false)) return;
    if (watching) this.attach(db);
    else this.#detach();
  }

  /** Whether commits may be recorded at all (false with `DB_ROUTER_WATCH=off`). */
  get enabled(): boolean {
    return this.#recorder !== undefined;
  }

  /** Whether anyone listens. */
  get watched(): boolean {
    return this.#sinks.size > 0;
  }

  /** Whether a sink here tells rows apart by owner. */
  get scoped(): boolean {
    for (const sink of this.#sinks) if (sink.scoped) return true;
    return false;
  }

  /**
   * Adds `sink` (`db`: the open database, if any, which starts being
   * recorded if it was not); returns whether it is the first.
   */
  add(sink: CommitSink, db: SqlJsDatabase | undefined): boolean {
    this.#sinks.add(sink);
    if (db && !this.#attached) this.attach(db);
    return this.#sinks.size === 1;
  }

  /**
   * Removes `sink`; returns whether none is left (and then stops recording,
   * unless other processes may watch).
   */
  remove(sink: CommitSink): boolean {
    if (!this.#sinks.delete(sink) || this.#sinks.size > 0) return false;
    if (!this.#others) this.#detach();
    return true;
  }

  #detach(): void {
    if (!this.#attached) return;
    try {
      this.#recorder?.detach(this.#attached);
    } catch {
      // A closed database: nothing to remove.
    }
    this.#attached = undefined;
  }

  /**
   * A database was just opened or reloaded: records its changes when
   * commits are recorded now; what was pending is dropped. With no sink
   * here, the recorder is attached at the database's first write instead
   * (see {@linkcode mark}): until this process writes there is nothing to
   * record, and its update hook and triggers (a temp schema that SQLite
   * compiles) would cost a process whose first query is a read a good part
   * of its cold start.
   */
  attach(db: SqlJsDatabase, sql?: SqlJsStatic): void {
    this.#recorder?.clear();
    this.#attached = undefined;
    this.#deferred = undefined;
    this.#sql = sql ?? this.#sql;
    if (!this.#recorder || (!this.#others && this.#sinks.size === 0)) return;
    if (this.#sinks.size === 0) this.#deferred = db;
    else if (this.#recorder.attach(db, this.#sql)) this.#attached = db;
  }

  /** After anything that may have changed the schema: keeps the triggers in step. */
  schemaMayHaveChanged(db: SqlJsDatabase): void {
    if (this.#attached !== db) return;
    try {
      this.#recorder?.syncSchema(db);
    } catch {
      // A database that cannot list its tables now: the next check tries again.
    }
  }

  /**
   * A write to `db` starts (`rowChangesOnly`: it runs no DDL); returns where
   * the record stands, for {@linkcode rollBack}. First attaches the recorder
   * if it waited for this write (see {@linkcode attach}) and commits are
   * still recorded (a sink here, or other processes watching).
   */
  mark(db: SqlJsDatabase, rowChangesOnly = false): RecorderMark | undefined {
    if (this.#deferred !== undefined && this.#deferred === db) {
      this.#deferred = undefined;
      if (this.#recorder && (this.#others || this.#sinks.size > 0)) {
        if (this.#recorder.attach(db, this.#sql)) this.#attached = db;
      }
    }
    return this.#attached ? this.#recorder?.mark(rowChangesOnly) : undefined;
  }

  /** A statement of a transaction starts (`rowChangesOnly`: one that runs no DDL). */
  beginStatement(rowChangesOnly: boolean): void {
    if (this.#attached) this.#recorder?.beginStatement(rowChangesOnly);
  }

  /** Forgets the changes of a write that failed and was rolled back. */
  rollBack(mark: RecorderMark | undefined): void {
    if (mark) this.#recorder?.rollBack(mark);
  }

  /**
   * The rows recorded since the last commit, taken for the commit about to
   * be made. Inserted and updated rows' owners are looked up when a watcher
   * of another process may need them (`shared`, and a watcher that is not
   * known to be unscoped) or a sink here does (a scope).
   */
  take(db: SqlJsDatabase, shared: boolean): CommitRows | undefined {
    this.#uniformNote = undefined;
    if (this.#attached !== db) return undefined;
    this.#ownersKnown = (shared && this.#others === true) || this.scoped;
    if (shared && this.#sinks.size === 0 && !this.#ownersKnown && this.#others !== false) {
      // Only other processes hear this commit, through its note: a bulk statement's rows go
      // into it straight from the record (see `encodeUniformNote`), now, while its view of the
      // record's rowids holds.
      const uniform = this.#recorder?.takeUniform();
      if (uniform) {
        this.#uniformNote = encodeUniformNote(uniform, this.#recorder?.movedTables);
        return undefined;
      }
    }
    return this.#recorder?.take(db, this.#ownersKnown);
  }

  /**
   * The note that carries `rows` to other processes: one for every commit
   * while recording is on and others may watch, an empty one for a commit
   * that changed no row (a schema change), since a commit without a note is
   * heard as a resync. None while the storage says that nobody else watches
   * (only sinks here, which hear the commit without it).
   */
  note(rows: CommitRows | undefined): Uint8Array | undefined {
    const uniform = this.#uniformNote;
    this.#uniformNote = undefined;
    if (!this.#attached || this.#others === false) return undefined;
    if (uniform) return uniform;
    return encodeNote(rows ?? new Map(), this.#ownersKnown || !rows, this.#recorder?.movedTables);
  }

  /** A commit made here is durable. */
  committed(rows: CommitRows | undefined): void {
    if (!rows || rows.size === 0) return;
    // The rows were grouped for this commit: a lone sink may keep their arrays.
    const owned = this.#sinks.size === 1;
    for (const sink of this.#sinks) sink.commit(rows, true, owned);
  }

  /** Other processes' commits were applied: each sink hears their notes, in order. */
  caughtUp(changes: PageChanges): void {
    if (this.#sinks.size === 0) return;
    if (!changes.notes) {
      if (changes.pages.length > 0) this.resync();
      return;
    }
    // Sinks whose last event was a resync: one resync covers a run of unreadable notes.
    const resynced = new Set<CommitSink>();
    const notes = changes.notes.map((note) => note ? readNote(note) : undefined);
    notes.forEach((read, index) => {
      // A scoped sink needs owners: the note's, or looked up here now (see `late_owners.ts`).
      let owned: CommitRows | undefined | null = null;
      for (const sink of this.#sinks) {
        const rows = !read
          ? undefined
          : read.ownersKnown || !sink.scoped
          ? read.rows
          : owned === null
          ? owned = this.#ownersLate(notes, index)
          : owned;
        if (rows) {
          resynced.delete(sink);
          sink.commit(rows, false);
        } else if (!resynced.has(sink)) {
          resynced.add(sink);
          sink.resync();
        }
      }
    });
  }

  /** The rows of `notes[index]` with owners looked up in the database now, if they can be told. */
  #ownersLate(notes: readonly (ReadNote | undefined)[], index: number): CommitRows | undefined {
    const db = this.#attached;
    const recorder = this.#recorder;
    if (!db || !recorder) return undefined;
    try {
      return ownersLate(notes, index, (table, rowids) => recorder.ownersOf(db, table, rowids));
    } catch {
      // A database that cannot be read now: the sink hears a resync.
      return undefined;
    }
  }

  /** The database was read again whole: what changed cannot be told. */
  resync(): void {
    for (const sink of this.#sinks) sink.resync();
  }

  /** Drops every sink. */
  clear(): void {
    this.#deferred = undefined;
    this.#sinks.clear();
    this.#recorder?.clear();
    this.#recorder?.dispose();
  }
}
