/**
 * The files of a queue folder:
 *
 * ```
 * <queue dir>/<menace id>.jsonl                          appended by that instance's routers
 * <queue dir>/processing/<menace id>.<stamp>.jsonl        claimed by a sync, being applied
 * <queue dir>/processing/<menace id>.<stamp>.replay.jsonl failed records claimed for a replay
 * <queue dir>/failed/<menace id>.jsonl                   records a sync refused, with the reason
 * ```
 *
 * The queue folder is the router's `queueDir` option, else `DB_ROUTER_QUEUE_DIR`,
 * else `queue/` beside the shared database.
 *
 * @module
 */
import { dirname, join } from "../path.ts";
import { assertMenaceId } from "../menace.ts";

/** Subfolder of claimed files. */
export const PROCESSING_FOLDER = "processing";
/** Subfolder of refused records. */
export const FAILED_FOLDER = "failed";

const SUFFIX = ".jsonl";
const CLAIMED = /^(.+)\.(\d{15}-[0-9a-f]{8})(\.replay)?\.jsonl$/;

/**
 * The queue folder when none is configured: `queue/` beside the shared database.
 *
 * @example
 * ```ts
 * import { defaultQueueDir } from "./layout.ts";
 * defaultQueueDir("/srv/shared/global.db"); // "/srv/shared/queue"
 * ```
 */
export function defaultQueueDir(sharedPath: string): string {
  return join(dirname(sharedPath), "queue");
}

/**
 * The queue file of `menaceId` in `queueDir`.
 *
 * @example
 * ```ts
 * import { queueFile } from "./layout.ts";
 * queueFile("/srv/queue", "alpha"); // "/srv/queue/alpha.jsonl"
 * ```
 */
export function queueFile(queueDir: string, menaceId: string): string {
  return join(queueDir, `${menaceId}${SUFFIX}`);
}

/**
 * The failed-records file of `menaceId` in `queueDir`.
 *
 * @example
 * ```ts
 * import { failedFile } from "./layout.ts";
 * failedFile("/srv/queue", "alpha"); // "/srv/queue/failed/alpha.jsonl"
 * ```
 */
export function failedFile(queueDir: string, menaceId: string): string {
  return join(queueDir, FAILED_FOLDER, `${menaceId}${SUFFIX}`);
}

/**
 * The menace id of a queue (or failed) file name, or `undefined` for a name
 * that is not one.
 *
 * @example
 * ```ts
 * import { menaceOfQueueFile } from "./layout.ts";
 * menaceOfQueueFile("alpha.jsonl"); // "alpha"
 * menaceOfQueueFile("notes.txt"); // undefined
 * ```
 */
export function menaceOfQueueFile(name: string): string | undefined {
  if (!name.endsWith(SUFFIX)) return undefined;
  try {
    return assertMenaceId(name.slice(0, -SUFFIX.length));
  } catch {
    return undefined;
  }
}

/**
 * A new unique name under `processing/` for a claim of `menaceId`'s queue
 * file (or, with `replay`, its failed file). Names sort by claim time.
 *
 * @example
 * ```ts
 * import { claimedName } from "./layout.ts";
 * claimedName("alpha", false); // "alpha.001735689600000-9f86d081.jsonl"
 * ```
 */
export function claimedName(menaceId: string, replay: boolean, now: number = Date.now()): string {
  const random = Array.from(
    crypto.getRandomValues(new Uint8Array(4)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const stamp = `${String(now).padStart(15, "0")}-${random}`;
  return `${menaceId}.${stamp}${replay ? ".replay" : ""}${SUFFIX}`;
}

/**
 * What a name under `processing/` says: whose records, claimed when, and
 * whether they are failed records being replayed; `undefined` for other names.
 *
 * @example
 * ```ts
 * import { parseClaimedName } from "./layout.ts";
 * parseClaimedName("alpha.001735689600000-9f86d081.replay.jsonl");
 * // { menaceId: "alpha", claimedAt: 1735689600000, replay: true }
 * ```
 */
export function parseClaimedName(
  name: string,
): { menaceId: string; claimedAt: number; replay: boolean } | undefined {
  const match = CLAIMED.exec(name);
  const menaceId = match && menaceOfQueueFile(`${match[1]}${SUFFIX}`);
  if (!match || !menaceId) return undefined;
  return { menaceId, claimedAt: Number(match[2].slice(0, 15)), replay: match[3] !== undefined };
}
