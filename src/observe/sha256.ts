/**
 * SHA-256 in plain TypeScript, synchronous, for the audit log's `prev_hash`
 * chain. Web Crypto's `digest` is asynchronous, and a chain of audit lines
 * needs each hash before the next line can be written; Node's `node:crypto`
 * is not available in browsers. The lines are short (about 150 bytes), so a
 * table-driven implementation costs about a microsecond per line.
 *
 * @module
 */

// Int32Array, not Uint32Array: its values stay small integers, which engines add fastest.
// deno-fmt-ignore
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// deno-fmt-ignore
const INITIAL = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const words = new Int32Array(64);
const state = new Int32Array(8);
const encoder = new TextEncoder();
let scratch = new Uint8Array(1024);

/** Char codes of the digest's hex digits, one array per length, so that a digest is one string. */
const digits = new Map<number, number[]>();
const HEX_CODES = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));

/**
 * The SHA-256 digest of `text` encoded as UTF-8, as 64 lower-case hex digits,
 * or only its first `length` digits (an even number from 2 to 64). The
 * digits are written as one string: no piece per byte for the collector.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./sha256.ts";
 * sha256Hex("abc"); // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * sha256Hex("abc", 32); // "ba7816bf8f01cfea414140de5dae2223"
 * ```
 */
export function sha256Hex(text: string, length = 64): string {
  let codes = digits.get(length);
  if (!codes) {
    if (!Number.isInteger(length) || length < 2 || length > 64 || length % 2 !== 0) {
      throw new RangeError(`Invalid digest length ${length}: expected an even number from 2 to 64`);
    }
    digits.set(length, codes = new Array<number>(length).fill(0));
  }
  // Room for the padding: the text, 0x80, zeros, and the 8-byte bit length.
  if (scratch.length < text.length * 3 + 72) scratch = new Uint8Array(text.length * 3 + 72);
  const encoded = encoder.encodeInto(text, scratch).written;
  const padded = Math.ceil((encoded + 9) / 64) * 64;
  scratch.fill(0, encoded, padded);
  scratch[encoded] = 0x80;
  const bits = encoded * 8;
  scratch[padded - 5] = Math.floor(encoded / 0x20000000) & 0xff;
  scratch[padded - 4] = bits >>> 24;
  scratch[padded - 3] = (bits >>> 16) & 0xff;
  scratch[padded - 2] = (bits >>> 8) & 0xff;
  scratch[padded - 1] = bits & 0xff;
  state.set(INITIAL);
  for (let offset = 0; offset < padded; offset += 64) compress(scratch, offset);
  for (let i = 0; i < length; i++) {
    codes[i] = HEX_CODES[(state[i >> 3] >>> (28 - 4 * (i & 7))) & 0xf];
  }
  return String.fromCharCode.apply(null, codes);
}

function compress(bytes: Uint8Array, offset: number): void {
  for (let i = 0, at = offset; i < 16; i++, at += 4) {
    words[i] = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = words[i - 15];
    const y = words[i - 2];
    words[i] = (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + words[i - 7] +
        (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + words[i - 16] | 0;
  }
  let a = state[0], b = state[1], c = state[2], d = state[3];
  let e = state[4], f = state[5], g = state[6], h = state[7];
  for (let i = 0; i < 64; i++) {
    const t1 = h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
        ((e & f) ^ (~e & g)) + K[i] + words[i] | 0;
    const t2 = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
        ((a & b) ^ (a & c) ^ (b & c)) | 0;
    h = g;
    g = f;
    f = e;
    e = d + t1 | 0;
    d = c;
    c = b;
    b = a;
    a = t1 + t2 | 0;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}
