/**
 * Reads a log file line by line in bounded memory: a read stream of 64 KiB
 * chunks split on newlines, so a log of gigabytes needs no more memory than
 * its longest line, and a "line" longer than {@linkcode MAX_LINE_BYTES} (a
 * binary file, a log without newlines) is reported as `null` and skipped.
 *
 * @module
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";

/** Lines longer than this are not audit lines; they are skipped without being kept. */
export const MAX_LINE_BYTES: number = 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * Yields each line of the file at `path` without its newline (and without a
 * `\r` before it), or `null` for a line longer than `MAX_LINE_BYTES`. Rejects
 * with the file system's error (such as `ENOENT`) before yielding anything
 * when the file cannot be opened.
 *
 * @example
 * ```ts ignore
 * import { readLogLines } from "./lines.ts";
 * for await (const line of readLogLines("/var/log/menace/audit.log")) console.log(line);
 * ```
 */
export async function* readLogLines(path: string): AsyncGenerator<string | null> {
  const info = await stat(path);
  if (info.isDirectory()) throw new Error(`EISDIR: "${path}" is a folder`);
  const decoder = new TextDecoder();
  let parts: Uint8Array[] = [];
  let size = 0;
  let overlong = false;
  const finish = (): string | null => {
    const text = overlong ? null : decodeLine(decoder, parts, size);
    parts = [];
    size = 0;
    overlong = false;
    return text;
  };
  let read = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
    const bytes = chunk as Uint8Array;
    read += bytes.length;
    let start = 0;
    for (let end = bytes.indexOf(NEWLINE); end !== -1; end = bytes.indexOf(NEWLINE, start)) {
      keep(bytes.subarray(start, end));
      yield finish();
      start = end + 1;
    }
    if (start < bytes.length) keep(bytes.slice(start));
  }
  // A stream that stops short (Bun's have, in the past) must not pass for a complete count.
  if (read < info.size) {
    throw new Error(`reading ended after ${read} of the ${info.size} bytes it had when opened`);
  }
  if (size > 0 || overlong) yield finish();

  function keep(piece: Uint8Array): void {
    if (overlong) return;
    size += piece.length;
    if (size > MAX_LINE_BYTES) {
      overlong = true;
      parts = [];
    } else {
      parts.push(piece);
    }
  }
}

function decodeLine(decoder: TextDecoder, parts: Uint8Array[], size: number): string {
  let bytes: Uint8Array;
  if (parts.length === 1) {
    bytes = parts[0];
  } else {
    bytes = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
  }
  const text = decoder.decode(bytes);
  return text.endsWith("\r") ? text.slice(0, -1) : text;
}
