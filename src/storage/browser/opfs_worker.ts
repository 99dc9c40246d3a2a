/**
 * The dedicated Worker of OPFS storage: the only place that holds
 * `FileSystemSyncAccessHandle`s, which browsers offer in dedicated Workers
 * only. It knows nothing of databases: it runs batches of file operations
 * (read, write, truncate, flush, size) in order and answers once the batch is
 * done, so a batch that ends with a flush answers when its bytes are durable.
 * The log format, checksums and folding stay on the page's thread
 * (`opfs_database.ts`), where they are ordinary, tested TypeScript.
 *
 * The Worker's code is {@linkcode opfsWorkerMain}, started from a `blob:` URL
 * of its source, so the adapter works from any bundle without a separate
 * worker file; the function must therefore use nothing from outside itself.
 *
 * Handles are opened in Chromium's `"readwrite-unsafe"` mode where the browser
 * has it (several tabs may then hold handles on one file; the adapter's Web
 * Locks and checksummed records keep that safe). Elsewhere handles are
 * exclusive, and the page closes them (the `close` operation) before it hands
 * the Web Lock on the folder over to another tab, so tabs take turns.
 *
 * @module
 */

/** One file operation; paths are relative to the adapter's folder, `/`-separated. */
export type FileOp =
  | { readonly op: "read"; readonly path: string; readonly at: number; readonly length?: number }
  | { readonly op: "size"; readonly path: string }
  | { readonly op: "write"; readonly path: string; readonly at: number; readonly data: Uint8Array }
  | { readonly op: "truncate"; readonly path: string; readonly size: number }
  | { readonly op: "flush"; readonly path: string }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "close" }
  | { readonly op: "probe" };

/** The answer to one operation, by kind (see {@linkcode FileOp}). */
export type FileResult = Uint8Array | number | boolean | null | undefined;

/** A batch sent to the Worker. */
export interface BatchRequest {
  readonly id: number;
  readonly ops: readonly FileOp[];
  /**
   * Run only if handles are shared; otherwise answer `unshared` and run
   * nothing. Lets the page send a first batch right behind the probe instead
   * of waiting for its answer.
   */
  readonly ifShared?: boolean;
}

/** The Worker's answer to a batch. */
export interface BatchResponse {
  readonly id: number;
  readonly results?: FileResult[];
  readonly error?: { readonly name: string; readonly message: string };
  /** The batch asked for shared handles and ran nothing (see {@linkcode BatchRequest.ifShared}). */
  readonly unshared?: boolean;
}

/**
 * The Worker's program. `folder` is the OPFS folder (from the root) that holds
 * the adapter's files; `exclusive` forces exclusive handles.
 *
 * Results: `read` gives the bytes from `at` (to the end when `length` is
 * absent; fewer at the end of the file) or `null` for a missing file; `size`
 * gives the size or -1 for a missing file; `probe` gives whether handles are
 * shared (`"readwrite-unsafe"`) or throws when sync access handles are
 * missing; `remove` gives whether a file was removed. `write` and `truncate`
 * create missing files and folders.
 *
 * @example
 * ```ts ignore
 * const source = `(${opfsWorkerMain.toString()})(${JSON.stringify("db-router")}, false)`;
 * ```
 */
export function opfsWorkerMain(folder: string, exclusive: boolean): void {
  type Handle = {
    read(buffer: Uint8Array, options: { at: number }): number;
    write(buffer: Uint8Array, options: { at: number }): number;
    truncate(size: number): void;
    getSize(): number;
    flush(): void;
    close(): void;
    mode?: string;
  };
  type FileHandleLike = {
    createSyncAccessHandle(options?: { mode: string }): Promise<Handle>;
  };
  type Folder = {
    getDirectoryHandle(name: string, options?: { create: boolean }): Promise<Folder>;
    getFileHandle(name: string, options?: { create: boolean }): Promise<FileHandleLike>;
    removeEntry(name: string): Promise<void>;
  };
  const scope = globalThis as unknown as {
    navigator: { storage: { getDirectory(): Promise<Folder> } };
    FileSystemSyncAccessHandle?: { readonly prototype: object };
    onmessage: ((event: { data: BatchRequest }) => void) | null;
    postMessage(message: BatchResponse, transfer?: ArrayBuffer[]): void;
  };
  const accessHandle = scope.FileSystemSyncAccessHandle;
  const shared = !exclusive && accessHandle !== undefined && "mode" in accessHandle.prototype;
  const handles = new Map<string, Handle>();
  let root: Promise<Folder> | undefined;

  const notFound = (error: unknown) =>
    (error as { name?: string })?.name === "NotFoundError" ||
    (error as { name?: string })?.name === "TypeMismatchError";

  async function parentOf(path: string, create: boolean): Promise<[Folder, string]> {
    root ??= scope.navigator.storage.getDirectory().then((top) =>
      top.getDirectoryHandle(folder, { create: true })
    );
    let dir = await root;
    const parts = path.split("/");
    const name = parts.pop()!;
    for (const part of parts) dir = await dir.getDirectoryHandle(part, { create });
    return [dir, name];
  }

  async function handleOf(path: string, create: boolean): Promise<Handle | null> {
    const open = handles.get(path);
    if (open) return open;
    let file: FileHandleLike;
    try {
      const [dir, name] = await parentOf(path, create);
      file = await dir.getFileHandle(name, { create });
    } catch (error) {
      if (!create && notFound(error)) return null;
      throw error;
    }
    const handle =
      await (shared
        ? file.createSyncAccessHandle({ mode: "readwrite-unsafe" })
        : file.createSyncAccessHandle());
    handles.set(path, handle);
    return handle;
  }

  function closeAll(): void {
    for (const handle of handles.values()) handle.close();
    handles.clear();
  }

  async function run(op: FileOp, transfer: ArrayBuffer[]): Promise<FileResult> {
    switch (op.op) {
      case "probe": {
        if (accessHandle === undefined) {
          throw new TypeError("this browser has no FileSystemSyncAccessHandle in workers");
        }
        await parentOf("probe", true);
        return shared;
      }
      case "close":
        closeAll();
        return undefined;
      case "size": {
        const handle = await handleOf(op.path, false);
        return handle ? handle.getSize() : -1;
      }
      case "read": {
        const handle = await handleOf(op.path, false);
        if (!handle) return null;
        const size = handle.getSize();
        const length = Math.max(0, Math.min(op.length ?? size - op.at, size - op.at));
        const bytes = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const got = handle.read(bytes.subarray(done), { at: op.at + done });
          if (got <= 0) break;
          done += got;
        }
        transfer.push(bytes.buffer);
        return done === length ? bytes : bytes.subarray(0, done);
      }
      case "write": {
        const handle = (await handleOf(op.path, true))!;
        let done = 0;
        while (done < op.data.length) {
          const wrote = handle.write(op.data.subarray(done), { at: op.at + done });
          if (wrote <= 0) throw new Error(`short write to "${op.path}"`);
          done += wrote;
        }
        return undefined;
      }
      case "truncate":
        (await handleOf(op.path, true))!.truncate(op.size);
        return undefined;
      case "flush":
        (await handleOf(op.path, false))?.flush();
        return undefined;
      case "remove": {
        handles.get(op.path)?.close();
        handles.delete(op.path);
        try {
          const [dir, name] = await parentOf(op.path, false);
          await dir.removeEntry(name);
          return true;
        } catch (error) {
          if (notFound(error)) return false;
          throw error;
        }
      }
    }
  }

  // Batches run one after another: each answers before the next starts.
  let queue: Promise<void> = Promise.resolve();
  scope.onmessage = (event) => {
    const { id, ops, ifShared } = event.data;
    queue = queue.then(async () => {
      if (ifShared && !shared) {
        scope.postMessage({ id, unshared: true });
        return;
      }
      const transfer: ArrayBuffer[] = [];
      try {
        const results: FileResult[] = [];
        for (const op of ops) results.push(await run(op, transfer));
        scope.postMessage({ id, results }, transfer);
      } catch (error) {
        if (!shared) {
          try {
            closeAll();
          } catch {
            // The batch's own error is the one to report.
          }
        }
        const { name, message } = error as { name?: string; message?: string };
        scope.postMessage({ id, error: { name: name ?? "Error", message: message ?? "" } });
      }
    });
  };
}
