/**
 * A write lock that a tab keeps between commits while no other tab asks for
 * it. Taking a Web Lock and releasing it costs two trips to the browser's
 * lock manager per commit, and a tab that commits again and again would pay
 * them every time; worse, each new holding must read the stored stamp again,
 * since another tab may have committed in between. Kept, the lock costs a
 * local mutex per commit, and what the holder learnt about the files under it
 * ({@linkcode KeptLock.memo}) stays true until it lets go.
 *
 * A tab that wants the lock says so on a `BroadcastChannel` named after it,
 * as it starts waiting and again every {@linkcode ASK_AGAIN_MS} until it has
 * it (an ask heard between two holdings of the keeper is for the first one);
 * the keeper lets go at its next release, or at once when idle. A keeper also
 * lets go after {@linkcode KEEP_IDLE_MS} without a holding, so a tab that went
 * quiet holds nothing. The browser releases a Web Lock by itself when its tab
 * goes away, so a closed keeper blocks nobody.
 *
 * @module
 */
import { Mutex, type MutexInterface, withTimeout } from "async-mutex";
import { RouterError } from "../../errors.ts";
import type { Release } from "../types.ts";

/**
 * The Web Lock `name`, kept between holdings of this tab.
 *
 * @example
 * ```ts ignore
 * const kept = new KeptLock(() => acquireLock(navigator.locks, scope, name, 60000), name, 60000);
 * const release = await kept.lock();
 * try { ... } finally { await release(); }
 * ```
 */
export class KeptLock {
  readonly #take: () => Promise<Release>;
  readonly #name: string;
  /** Holdings in this tab take turns here; the Web Lock is only for other tabs. */
  readonly #turns: MutexInterface;
  /** The Web Lock while this tab keeps it. */
  #held: Promise<Release> | undefined;
  #channel: BroadcastChannel | undefined;
  #busy = false;
  #wanted = false;
  #idle: ReturnType<typeof setTimeout> | undefined;
  /**
   * What the holder knows of the stored files, kept while the Web Lock is:
   * cleared each time it is let go (another tab may write then).
   */
  memo: unknown;

  /** `take` takes the Web Lock; `timeoutMs` bounds the wait for a turn in this tab. */
  constructor(take: () => Promise<Release>, name: string, timeoutMs: number) {
    this.#take = take;
    this.#name = `${name}:asks`;
    this.#turns = withTimeout(
      new Mutex(),
      timeoutMs,
      new RouterError("LOCK_TIMEOUT", `Cannot lock "${name}": held for ${timeoutMs} ms`),
    );
  }

  /** Takes the lock: at once when this tab kept it, else from the browser. */
  async lock(): Promise<Release> {
    const done = await this.#turns.acquire();
    clearTimeout(this.#idle);
    try {
      if (this.#held && this.#wanted) await this.#letGo();
      await (this.#held ??= this.#takeFresh());
    } catch (error) {
      done();
      throw error;
    }
    this.#busy = true;
    let released = false;
    return () => {
      if (released) return Promise.resolve();
      released = true;
      this.#busy = false;
      done();
      if (this.#wanted) return this.#letGo();
      this.#idle = setTimeout(() => void this.#letGo(), KEEP_IDLE_MS);
      return Promise.resolve();
    };
  }

  async #takeFresh(): Promise<Release> {
    this.memo = undefined;
    const asking = typeof BroadcastChannel === "function"
      ? new BroadcastChannel(this.#name)
      : undefined;
    asking?.postMessage("want");
    const again = asking && setInterval(() => asking.postMessage("want"), ASK_AGAIN_MS);
    let release: Release;
    try {
      release = await this.#take();
    } catch (error) {
      this.#held = undefined;
      throw error;
    } finally {
      clearInterval(again);
    }
    // Asks heard before the lock was ours were for the holding before it.
    this.#wanted = false;
    if (asking) {
      asking.onmessage = () => {
        this.#wanted = true;
        if (!this.#busy) void this.#letGo();
      };
    }
    this.#channel = asking;
    return release;
  }

  /** Releases the Web Lock unless a holding is under way. */
  async #letGo(): Promise<void> {
    const held = this.#held;
    if (held === undefined || this.#busy) return;
    clearTimeout(this.#idle);
    this.#held = undefined;
    this.memo = undefined;
    // Closed before the lock goes: asks after it are for the next keeper.
    this.#channel?.close();
    this.#channel = undefined;
    await (await held.catch(() => () => Promise.resolve()))();
  }
}

/** Milliseconds a tab keeps the lock after its last release when nobody asks. */
const KEEP_IDLE_MS = 50;

/** Milliseconds between asks of a tab waiting for the lock. */
const ASK_AGAIN_MS = 25;
