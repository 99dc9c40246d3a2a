/**
 * Applies committed log frames to a database image.
 *
 * @module
 */
import { type Frame, NOTE_PAGE } from "./log_format.ts";

/**
 * Returns `image` with `frames` applied in order: each frame writes its page
 * (a note frame, for {@linkcode NOTE_PAGE}, writes none),
 * and each commit's last frame sets the database's length to its page count
 * (a shrink drops the pages past it; a later growth starts them from zeros).
 * `image` is modified in place when it is large enough, else copied.
 *
 * @example
 * ```ts
 * import { applyFrames } from "./replay.ts";
 * const page = new Uint8Array(512).fill(7);
 * const image = applyFrames(null, 512, [{ page: 1, commitPageCount: 1, data: page }]);
 * image.length; // 512
 * ```
 */
export function applyFrames(
  image: Uint8Array | null,
  pageSize: number,
  frames: readonly Frame[],
): Uint8Array {
  let length = image?.length ?? 0;
  if (frames.length === 0) return image ?? new Uint8Array(0);
  let capacity = length;
  for (const frame of frames) {
    if (frame.page === NOTE_PAGE) continue;
    capacity = Math.max(capacity, frame.page * pageSize, frame.commitPageCount * pageSize);
  }
  let target = image ?? new Uint8Array(capacity);
  if (target.length < capacity) {
    const grown = new Uint8Array(capacity);
    grown.set(target);
    target = grown;
  }
  for (const frame of frames) {
    if (frame.page === NOTE_PAGE) continue;
    target.set(frame.data, (frame.page - 1) * pageSize);
    if (frame.commitPageCount !== 0) {
      const next = frame.commitPageCount * pageSize;
      if (next < length) target.fill(0, next, length);
      length = next;
    }
  }
  // Pages a shrinking commit dropped may still hold bytes that a frame wrote before it.
  if (length < target.length) target.fill(0, length);
  return length === target.length ? target : target.subarray(0, length);
}
