/**
 * Opening a database without copying its image: the image read from storage
 * becomes SQLite's in-memory file itself.
 *
 * sql.js's `new Database(image)` creates the file with Emscripten's
 * `FS.createDataFile`, whose in-memory file system (MEMFS) takes a first
 * write to an empty file as `node.contents = data.slice(0, data.length)`: a
 * full copy, after which the image read from storage is garbage. V8 (Node,
 * Deno) returns a dead buffer's memory only after a full collection and its
 * concurrent array-buffer sweep, so for a while after every open the process
 * held two copies of the database (measured at 100 MB: 1.9x to 2.0x the file
 * above the baseline right after `gc()`, 0.9x once the sweep had finished).
 *
 * {@linkcode handOver} gives the image an own `slice` that, asked for the
 * whole image, returns a new view of the same memory instead of a copy; MEMFS
 * keeps that view as the file. Any other call is the ordinary `slice`. A
 * build of sql.js that creates its files another way only copies, as before.
 * The caller must not use the image afterwards: SQLite writes into it.
 *
 * @module
 */

/**
 * Marks `image` so that sql.js's `new Database(image)` keeps it as the
 * in-memory file instead of copying it; returns it. The caller gives it up:
 * SQLite writes into it from then on.
 *
 * @example
 * ```ts
 * import { handOver } from "./hand_over.ts";
 * const image = new Uint8Array(8);
 * const file = handOver(image).slice(0, 8);
 * file[0] = 1;
 * image[0]; // 1: the same memory
 * ```
 */
export function handOver(image: Uint8Array): Uint8Array {
  const copy = Uint8Array.prototype.slice;
  Object.defineProperty(image, "slice", {
    configurable: true,
    value(start?: number, end?: number): Uint8Array {
      // A plain view (not `image`, whose own property would follow it into MEMFS).
      if ((start ?? 0) === 0 && end === image.length) {
        return new Uint8Array(image.buffer, image.byteOffset, image.length);
      }
      return copy.call(image, start, end);
    },
  });
  return image;
}
