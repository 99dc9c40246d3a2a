/**
 * The `prev_hash` chain of the audit log, and its verifier.
 *
 * Every writer (one router's audit log, in one process) chains its own lines:
 * each line ends with `"prev_hash"`, the first 32 hex digits of the SHA-256 of
 * the previous line that writer appended, byte for byte; a writer's first line
 * carries {@linkcode CHAIN_START} (32 zeros). Several processes may append to
 * one file at once, so the chains interleave; the verifier keeps the hash of
 * each chain's last line and lets a line continue any open chain of the same
 * `menace_id`.
 *
 * What it detects: a line edited in any byte (the next line of its writer no
 * longer follows), a line removed (its successor follows nothing), lines cut
 * from the start of the file, a torn or malformed line. What it cannot: the
 * removal or edit of a writer's last lines (nothing follows them; compare
 * {@linkcode ChainVerifier.heads} with a copy kept elsewhere), and lines
 * inserted as a new chain. Without a secret, anyone who rewrites a line can
 * rewrite the rest of its chain too: the chain shows accidents and careless
 * edits, it is not a signature.
 *
 * @module
 */
import { sha256Hex } from "./sha256.ts";

/** The `prev_hash` of a writer's first line. */
export const CHAIN_START: string = "0".repeat(32);

/**
 * The chain hash of one whole line (without its newline): the first 32 hex
 * digits of its SHA-256, so `head -n 1 audit.log | tr -d '\n' | sha256sum`
 * shows it too.
 *
 * @example
 * ```ts
 * import { lineHash } from "./audit_chain.ts";
 * lineHash("abc"); // "ba7816bf8f01cfea414140de5dae2223"
 * ```
 */
export function lineHash(line: string): string {
  return sha256Hex(line, 32);
}

/**
 * One writer's chain: turns line bodies (`{...` without the closing brace)
 * into complete lines that carry `prev_hash`.
 *
 * @example
 * ```ts
 * import { AuditChain, CHAIN_START } from "./audit_chain.ts";
 * const chain = new AuditChain();
 * chain.link('{"menace_id":"alpha"'); // `{"menace_id":"alpha","prev_hash":"${CHAIN_START}"}`
 * ```
 */
export class AuditChain {
  #previous = CHAIN_START;

  /** Completes `body` with the hash of the previous line and remembers this one. */
  link(body: string): string {
    const line = `${body},"prev_hash":"${this.#previous}"}`;
    this.#previous = lineHash(line);
    return line;
  }
}

/** One break in the chains found by {@linkcode ChainVerifier}. */
export interface ChainProblem {
  /** The file's name, when the log is a set of rotated files. */
  readonly file?: string;
  /** 1-based line number in the file. */
  readonly line: number;
  /** What is wrong, in the library's message style. */
  readonly message: string;
}

/**
 * Checks the chains of a log line by line, in bounded memory (one entry per
 * open chain).
 *
 * @example
 * ```ts
 * import { AuditChain, ChainVerifier } from "./audit_chain.ts";
 * const chain = new AuditChain();
 * const verifier = new ChainVerifier();
 * const line = chain.link('{"menace_id":"a"');
 * verifier.check(1, line, "a", JSON.parse(line).prev_hash); // undefined: no problem
 * ```
 */
export class ChainVerifier {
  /**
   * Hash of each open chain's last line, by menace id, oldest chain first (two
   * writers may start with identical lines: then the hash is there twice). A
   * line replaces its chain's entry in place: keyed by menace id, the map's
   * keys stay the same from line to line. Keyed by hash (a key added and one
   * removed on every line), V8 kept growing its young generation under Deno,
   * to 200 MB of resident memory on a 256 MiB log.
   */
  readonly #heads = new Map<string, string[]>();
  /** Chains started (lines with {@linkcode CHAIN_START}). */
  chains = 0;
  /** Chains taken as continuing from removed files (see `check`). */
  continued = 0;

  /**
   * Checks line number `lineNumber` (its exact text, its `menace_id` and its
   * `prev_hash`); returns the problem, if any, and advances the chains. With
   * `afterRemoved` (lines of the first file left after older rotated files were
   * removed), a line that follows no line seen is taken as continuing a chain
   * from the removed files, and counted in {@linkcode continued}.
   */
  check(
    lineNumber: number,
    text: string,
    menaceId: string,
    prevHash: string | undefined,
    afterRemoved = false,
  ): ChainProblem | undefined {
    let heads = this.#heads.get(menaceId);
    if (!heads) this.#heads.set(menaceId, heads = []);
    const hash = lineHash(text);
    // Newest first: a writer's live chains are its latest (one per process start).
    let at = -1;
    if (prevHash !== undefined && prevHash !== CHAIN_START) at = heads.lastIndexOf(prevHash);
    if (at !== -1) {
      heads[at] = hash;
      return undefined;
    }
    heads.push(hash);
    if (prevHash === undefined) {
      return { line: lineNumber, message: "Line has no prev_hash: it was not chained" };
    }
    if (prevHash === CHAIN_START) {
      this.chains++;
    } else if (afterRemoved) {
      this.continued++;
    } else {
      return {
        line: lineNumber,
        message:
          `Line of "${menaceId}" follows no earlier line of its writer: a line before it was edited or removed`,
      };
    }
    return undefined;
  }

  /** The last hash of every chain, by menace id, to compare with a copy kept elsewhere. */
  heads(): Array<{ menaceId: string; hash: string }> {
    return [...this.#heads].flatMap(([menaceId, hashes]) =>
      hashes.map((hash) => ({ menaceId, hash }))
    );
  }
}
