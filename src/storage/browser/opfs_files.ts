/**
 * The page's side of the OPFS Worker (`opfs_worker.ts`): starts it from a
 * `blob:` URL on first use, sends batches of file operations and resolves each
 * with the Worker's results. With exclusive handles (browsers without
 * `"readwrite-unsafe"`), batches run under a Web Lock on the folder, which a
 * tab keeps while it goes on using its handles and hands over (handles
 * closed) when another tab asks or after a short idle time.
 *
 * @module
 */
import type { Release } from "../types.ts";
import {
  type BatchRequest,
  type BatchResponse,
  type FileOp,
  type FileResult,
  opfsWorkerMain,
} from "./opfs_worker.ts";

/** How the Worker is started; a test or a strict CSP may give its own. */
export type WorkerFactory = (source: string) => Worker;

/** What {@linkcode OpfsFiles} needs from its adapter. */
export interface OpfsFilesOptions {
  /** The OPFS folder (from the root) holding the adapter's files. */
  readonly folder: string;
  /** Exclusive handles even where shared ones exist. */
  readonly exclusive: boolean;
  /** Takes the Web Lock that serialises batches when handles are exclusive. */
  readonly lockFolder: () => Promise<Release>;
  /** Starts the Worker from its source. */
  readonly startWorker?: WorkerFactory;
}

/**
 * File operations in the adapter's OPFS folder, run by its Worker.
 *
 * @example
 * ```ts ignore
 * const files = new OpfsFiles({ folder: "db-router", exclusive: false, lockFolder });
 * const [size] = await files.batch([{ op: "size", path: "shared/global.db" }]);
 * ```
 */
export class OpfsFiles {
  readonly #options: OpfsFilesOptions;
  #worker: Worker | undefined;
  #ready: Promise<boolean> | undefined;
  /** Whether handles are shared, once the probe answered. */
  #shared: boolean | undefined;
  /** With exclusive handles: the folder lock while this tab keeps it. */
  #held: Promise<Release> | undefined;
  /** Batches sent under {@linkcode #held} and not answered yet. */
  #inFlight = 0;
  /** Whether another tab asked for the folder lock. */
  #wanted = false;
  #idle: ReturnType<typeof setTimeout> | undefined;
  #next = 1;
  readonly #pending = new Map<number, { resolve(r: FileResult[]): void; reject(e: Error): void }>();

  /** Nothing starts until the first batch. */
  constructor(options: OpfsFilesOptions) {
    this.#options = options;
  }

  /**
   * Starts the Worker and checks that it has synchronous access handles;
   * resolves whether handles are shared between tabs, rejects when OPFS
   * cannot be used here.
   */
  ready(): Promise<boolean> {
    return this.#ready ??= this.#start().catch((error) => {
      this.#ready = undefined;
      this.#worker?.terminate();
      this.#worker = undefined;
      throw error;
    });
  }

  /** Runs `ops` in order in the Worker; rejects with the first operation's error. */
  async batch(ops: readonly FileOp[], transfer: ArrayBuffer[] = []): Promise<FileResult[]> {
    const ready = this.ready();
    if (this.#shared === undefined && transfer.length === 0 && !this.#options.exclusive) {
      // Sent right behind the probe, not after its answer: one round trip less on a first open.
      // The Worker runs it only with shared handles (nothing was transferred, so it can be resent).
      const early = this.#send(ops, transfer, true);
      early.catch(() => {}); // the probe's error is the one to report
      if (await ready) {
        const results = await early;
        if (results !== UNSHARED) return results;
      }
    }
    if (await ready) return await this.#send(ops, transfer);
    return await this.#exclusiveBatch(ops, transfer);
  }

  /**
   * With exclusive handles: runs `ops` under the folder lock. The lock and
   * the Worker's handles are kept after the batch while this tab goes on
   * using them (a commit's batches follow each other within milliseconds),
   * and handed over when another tab asks for them (a message on a
   * `BroadcastChannel` as it starts waiting for the lock) or after
   * {@linkcode LINGER_MS} without a batch: the handles are closed first.
   */
  async #exclusiveBatch(ops: readonly FileOp[], transfer: ArrayBuffer[]): Promise<FileResult[]> {
    clearTimeout(this.#idle);
    this.#inFlight++;
    try {
      await (this.#held ??= this.#takeFolder());
      return await this.#send(ops, transfer);
    } finally {
      if (--this.#inFlight === 0) {
        this.#idle = setTimeout(() => void this.#handOver(), this.#wanted ? 0 : LINGER_MS);
      }
    }
  }

  async #takeFolder(): Promise<Release> {
    const name = `db-router-opfs-files:${this.#options.folder}`;
    const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : undefined;
    channel?.postMessage("want");
    let release: Release;
    try {
      release = await this.#options.lockFolder();
    } catch (error) {
      channel?.close();
      this.#held = undefined;
      throw error;
    }
    // Asks heard before the lock was ours were for the hold before it.
    this.#wanted = false;
    if (channel) {
      channel.onmessage = () => {
        this.#wanted = true;
        if (this.#inFlight === 0) void this.#handOver();
      };
    }
    return async () => {
      channel?.close(); // before the lock goes: asks after it are for the next hold
      await release();
    };
  }

  /** Closes the Worker's handles and releases the folder lock, unless a batch is running. */
  async #handOver(): Promise<void> {
    const held = this.#held;
    if (held === undefined || this.#inFlight > 0) return;
    clearTimeout(this.#idle);
    this.#held = undefined;
    try {
      await this.#send([{ op: "close" }], []);
    } catch {
      // A stopped Worker holds no handles.
    } finally {
      await (await held)();
    }
  }

  /** Stops the Worker; a later batch starts a new one. */
  terminate(): void {
    clearTimeout(this.#idle);
    void this.#held?.then((release) => release(), () => {});
    this.#held = undefined;
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#ready = undefined;
    this.#shared = undefined;
    this.#failAll(new Error("The OPFS worker was stopped"));
  }

  async #start(): Promise<boolean> {
    if (typeof Worker !== "function") {
      throw new TypeError("this runtime has no Worker");
    }
    const source = `(${opfsWorkerMain.toString()})(${JSON.stringify(this.#options.folder)}, ${
      JSON.stringify(this.#options.exclusive)
    });`;
    const start = this.#options.startWorker ?? startBlobWorker;
    const worker = this.#worker = start(source);
    worker.onmessage = (event: MessageEvent<BatchResponse>) => {
      const { id, results, error, unshared } = event.data;
      const pending = this.#pending.get(id);
      if (!pending) return;
      this.#pending.delete(id);
      if (error) pending.reject(Object.assign(new Error(error.message), { name: error.name }));
      else pending.resolve(unshared ? UNSHARED : results ?? []);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      this.#failAll(new Error(`The OPFS worker failed: ${event.message ?? "it did not start"}`));
    };
    const [shared] = await this.#send([{ op: "probe" }], []);
    return this.#shared = shared === true;
  }

  #send(ops: readonly FileOp[], transfer: ArrayBuffer[], ifShared = false): Promise<FileResult[]> {
    const worker = this.#worker;
    if (!worker) return Promise.reject(new Error("The OPFS worker was stopped"));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, ops, ifShared } satisfies BatchRequest, transfer);
    });
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

/**
 * Milliseconds an idle tab keeps exclusive handles and the folder lock before
 * it hands them over unasked.
 */
const LINGER_MS = 20;

/** The answer to a batch sent `ifShared` to a Worker whose handles are exclusive. */
const UNSHARED: FileResult[] = [];

function startBlobWorker(source: string): Worker {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    return new Worker(url, { name: "db-router-opfs" });
  } finally {
    // The Worker has fetched its script by the time it runs; a revoked URL keeps nothing alive.
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
}
