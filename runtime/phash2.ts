/**
 * `erlang:phash2/1,2` for the terms the runtime has, bit for bit as ERTS computes it (erts `make_hash2`, Bob
 * Jenkins' mix over 32-bit words; atoms by `hashpjw` of their name, as erts `atom.c` keeps them). OTP
 * documents phash2 as stable across releases and machines, which is what makes matching it worthwhile:
 * PartitionSupervisor routes a non-integer key to partition `phash2(key, partitions)` (R79), and with the same
 * hash a key lands in the same partition here as on the BEAM.
 *
 * Terms, as in terms.ts: a string is an atom (`true`/`false` booleans and `null`/`undefined` as `nil` too); an
 * integer number or a bigint is an integer, any other number a float; a plain array is a tuple, an `ErlList`
 * a list; a `Bin` or a `Uint8Array` a binary; a `Map` or a plain object (atom keys) a map; a `Pid` hashes
 * as a local pid with its number (`#PID<0.N.0>` hashes as N; real pids' numbers differ from run to run anyway).
 * Anything else (functions, refs) has no stable Erlang counterpart and is rejected with a TypeError.
 *
 * Checked against values printed by `erl` (test/fidelity/phash2.escript → test/fidelity/phash2.json).
 */

import { Bin, ErlList, type Term } from "./terms.js";

const HCONST = 0x9e3779b9;
const HCONST_2 = 0x3c6ef372;
const HCONST_3 = 0xdaa66d2b;
const HCONST_4 = 0x78dde6e4;
const HCONST_5 = 0x1715609d;
const HCONST_9 = 0x8ff34781;
const HCONST_10 = 0x2e2ac13a;
const HCONST_11 = 0xcc623af3;
const HCONST_12 = 0x6a99b4ac;
const HCONST_13 = 0x08d12e65;
const HCONST_16 = 0xe3779b90;
const HCONST_19 = 0xbe1e08bb;
/** erts' tag number of `[]`, hashed when a list ends after other terms. */
const NIL_DEF = 2;
/** What `[]` hashes to when it is the first thing hashed. */
const NIL_FIRST = 3468870702;

/** The running state of one hash: the 32-bit value erts calls `hash`, updated by `mix`. */
class Hasher {
  h = 0;

  /** erts `UINT32_HASH_2(x, y, c)`: Jenkins' mix of (c + x, c + y, hash). */
  mix2(x: number, y: number, c: number): void {
    let a = (c + x) >>> 0;
    let b = (c + y) >>> 0;
    let h = this.h;
    a = (a - b - h) >>> 0; a = (a ^ (h >>> 13)) >>> 0;
    b = (b - h - a) >>> 0; b = (b ^ (a << 8)) >>> 0;
    h = (h - a - b) >>> 0; h = (h ^ (b >>> 13)) >>> 0;
    a = (a - b - h) >>> 0; a = (a ^ (h >>> 12)) >>> 0;
    b = (b - h - a) >>> 0; b = (b ^ (a << 16)) >>> 0;
    h = (h - a - b) >>> 0; h = (h ^ (b >>> 5)) >>> 0;
    a = (a - b - h) >>> 0; a = (a ^ (h >>> 3)) >>> 0;
    b = (b - h - a) >>> 0; b = (b ^ (a << 10)) >>> 0;
    h = (h - a - b) >>> 0; h = (h ^ (b >>> 15)) >>> 0;
    this.h = h;
  }

  mix(x: number, c: number): void {
    this.mix2(x, 0, c);
  }
}

/** Jenkins' mix on three words, for binaries (erts `block_hash`). Returns [a, b, c]. */
function mix3(a: number, b: number, c: number): [number, number, number] {
  a = (a - b - c) >>> 0; a = (a ^ (c >>> 13)) >>> 0;
  b = (b - c - a) >>> 0; b = (b ^ (a << 8)) >>> 0;
  c = (c - a - b) >>> 0; c = (c ^ (b >>> 13)) >>> 0;
  a = (a - b - c) >>> 0; a = (a ^ (c >>> 12)) >>> 0;
  b = (b - c - a) >>> 0; b = (b ^ (a << 16)) >>> 0;
  c = (c - a - b) >>> 0; c = (c ^ (b >>> 5)) >>> 0;
  a = (a - b - c) >>> 0; a = (a ^ (c >>> 3)) >>> 0;
  b = (b - c - a) >>> 0; b = (b ^ (a << 10)) >>> 0;
  c = (c - a - b) >>> 0; c = (c ^ (b >>> 15)) >>> 0;
  return [a, b, c];
}

function word(k: Uint8Array, i: number): number {
  return (k[i] | (k[i + 1] << 8) | (k[i + 2] << 16) | (k[i + 3] << 24)) >>> 0;
}

function blockHash(k: Uint8Array, initval: number): number {
  let a = HCONST;
  let b = HCONST;
  let c = initval >>> 0;
  let i = 0;
  const len = k.length;
  for (; len - i >= 12; i += 12) {
    a = (a + word(k, i)) >>> 0;
    b = (b + word(k, i + 4)) >>> 0;
    c = (c + word(k, i + 8)) >>> 0;
    [a, b, c] = mix3(a, b, c);
  }
  c = (c + len) >>> 0;
  const r = len - i;
  // The tail bytes, as the fall-through switch of erts: the first byte of c is reserved for the length.
  if (r >= 11) c = (c + (k[i + 10] << 24)) >>> 0;
  if (r >= 10) c = (c + (k[i + 9] << 16)) >>> 0;
  if (r >= 9) c = (c + (k[i + 8] << 8)) >>> 0;
  if (r >= 8) b = (b + (k[i + 7] << 24)) >>> 0;
  if (r >= 7) b = (b + (k[i + 6] << 16)) >>> 0;
  if (r >= 6) b = (b + (k[i + 5] << 8)) >>> 0;
  if (r >= 5) b = (b + k[i + 4]) >>> 0;
  if (r >= 4) a = (a + (k[i + 3] << 24)) >>> 0;
  if (r >= 3) a = (a + (k[i + 2] << 16)) >>> 0;
  if (r >= 2) a = (a + (k[i + 1] << 8)) >>> 0;
  if (r >= 1) a = (a + k[i]) >>> 0;
  [a, b, c] = mix3(a, b, c);
  return c;
}

const utf8 = new TextEncoder();

/** erts `atom_hash`: hashpjw over the atom's UTF-8 name, with the latin-1 "clutch" kept since R16. */
export function atomHash(name: string): number {
  const p = utf8.encode(name);
  let h = 0;
  for (let i = 0; i < p.length; i++) {
    let v = p[i];
    if (i + 1 < p.length && (v & 0xfe) === 0xc2 && (p[i + 1] & 0xc0) === 0x80) {
      v = ((v << 6) | (p[i + 1] & 0x3f)) & 0xff;
      i++;
    }
    h = ((h << 4) + v) >>> 0;
    const g = (h & 0xf0000000) >>> 0;
    if (g) {
      h = (h ^ (g >>> 24)) >>> 0;
      h = (h ^ g) >>> 0;
    }
  }
  return h;
}

const MAX_SMALL = 2n ** 59n - 1n; // 64-bit erts: integers in [-2^59, 2^59) are immediates, others bignums
const MIN_SMALL = -(2n ** 59n);

function hashInteger(hs: Hasher, n: bigint): void {
  if (n >= -(2n ** 27n) && n < 2n ** 27n) {
    // SINT32_HASH: negative numbers are mixed twice, first as their absolute value.
    const y = Number(n);
    if (y < 0) hs.mix(-y, HCONST);
    hs.mix(y >>> 0, HCONST);
    return;
  }
  const neg = n < 0n;
  const t = neg ? -n : n;
  const con = neg ? HCONST_10 : HCONST_11;
  if (n >= MIN_SMALL && n <= MAX_SMALL) {
    hs.mix2(Number(t & 0xffffffffn), Number(t >> 32n), con);
    return;
  }
  // A bignum: 64-bit digits, least significant first, each as (low, high) words.
  let rest = t;
  do {
    const d = rest & 0xffffffffffffffffn;
    hs.mix2(Number(d & 0xffffffffn), Number(d >> 32n), con);
    rest >>= 64n;
  } while (rest > 0n);
}

const floatView = new DataView(new ArrayBuffer(8));

function hashFloat(hs: Hasher, x: number): void {
  floatView.setFloat64(0, x === 0 ? 0 : x, true); // -0.0 hashes as 0.0, as in erts
  hs.mix2(floatView.getUint32(4, true), floatView.getUint32(0, true), HCONST_12);
}

function isByte(t: Term): boolean {
  return (typeof t === "number" && Number.isInteger(t) && t >= 0 && t <= 255) || (typeof t === "bigint" && t >= 0n && t <= 255n);
}

/** Markers on the work stack (erts pushes header words that no term can be). */
const MAP_TAIL = Symbol("map tail");
const MAP_PAIR = Symbol("map pair");
/** The rest of a list, from index `i` of `items`, ending in `tail` (`[]` for a proper list). */
class ListRest {
  constructor(readonly items: readonly Term[], readonly i: number, readonly tail: Term) {}
}
/** `[]` (a term of its own here: an empty `ErlList` would do, but this one needs no allocation per list). */
const NIL = new ErlList<never>();

/** The mirror of erts' work stack: terms still to hash, map markers and saved hash values. */
type Work = Term | typeof MAP_TAIL | typeof MAP_PAIR | ListRest;

/** `erlang:phash2(term)`: a hash in 0..2^27-1. */
export function phash2(term: Term): number;
/** `erlang:phash2(term, range)`: a hash in 0..range-1 (range from 1 to 2^32). */
export function phash2(term: Term, range: number): number;
export function phash2(term: Term, range?: number): number {
  const h = makeHash2(term);
  if (range === undefined) return h & ((1 << 27) - 1);
  if (!Number.isInteger(range) || range < 1 || range > 2 ** 32) {
    throw new TypeError(`phash2: the range must be an integer from 1 to 2^32 (erlang:phash2/2 raises badarg), got ${String(range)}.`);
  }
  return h % range;
}

/** erts `make_hash2`: the full 32-bit hash. */
export function makeHash2(top: Term): number {
  // Top-level atoms and small integers take erts' short cuts.
  const topAtom = atomName(top);
  if (topAtom !== undefined) return atomHash(topAtom);
  const hs = new Hasher();
  const stack: Work[] = [];
  const saved: number[] = []; // hash and hash_xor_pairs of the enclosing maps
  let xorPairs = 0;
  let term: Work = top;
  for (;;) {
    let next: Work | undefined;
    if (term instanceof ListRest) {
      next = hashListFrom(hs, stack, term.items, term.i, term.tail);
    } else if (term === MAP_TAIL) {
      hs.h = saved.pop()!;
      hs.mix(xorPairs, HCONST_19);
      xorPairs = saved.pop()!;
    } else if (term === MAP_PAIR) {
      xorPairs = (xorPairs ^ hs.h) >>> 0;
      hs.h = 0;
    } else {
      const t = term as Term;
      const name = atomName(t);
      if (name !== undefined) {
        if (hs.h === 0) hs.h = atomHash(name);
        else hs.mix(atomHash(name), HCONST_3);
      } else if (typeof t === "bigint" || (typeof t === "number" && Number.isInteger(t))) {
        hashInteger(hs, BigInt(t));
      } else if (typeof t === "number") {
        hashFloat(hs, t);
      } else if (t instanceof Bin || t instanceof Uint8Array) {
        const bytes = t instanceof Bin ? t.bytes() : t;
        const con = (HCONST_13 + hs.h) >>> 0;
        hs.h = bytes.length === 0 ? con : blockHash(bytes, con);
      } else if (t instanceof ErlList) {
        next = t.length === 0 ? nilHash(hs) : hashListFrom(hs, stack, t, 0, improperTail(t));
      } else if (Array.isArray(t)) {
        hs.mix(t.length, HCONST_9);
        for (let i = t.length - 1; i >= 1; i--) stack.push(t[i]);
        if (t.length > 0) next = t[0];
      } else if (isPid(t)) {
        hs.mix(t.id, HCONST_5);
      } else if (t instanceof Map || isPlainObject(t)) {
        const pairs: Array<[Term, Term]> = t instanceof Map ? [...t] : Object.entries(t as Record<string, Term>);
        hs.mix(pairs.length, HCONST_16);
        if (pairs.length > 0) {
          // Each pair is hashed on its own from 0 and the pairs are xor-ed: the order of keys does not matter.
          saved.push(xorPairs, hs.h);
          stack.push(MAP_TAIL);
          hs.h = 0;
          xorPairs = 0;
          for (let i = pairs.length - 1; i >= 0; i--) stack.push(MAP_PAIR, pairs[i][1], pairs[i][0]);
        }
      } else {
        throw new TypeError(`phash2: ${describe(t)} has no Erlang term counterpart to hash; use atoms (strings), numbers, tuples (arrays), lists (list(...)), binaries or maps.`);
      }
    }
    if (next !== undefined) {
      term = next;
      continue;
    }
    if (stack.length === 0) return hs.h;
    term = stack.pop()!;
  }
}

/** `[]` reached as a term (an empty list, or the end of one): returns nothing more to hash. */
function nilHash(hs: Hasher): undefined {
  if (hs.h === 0) hs.h = NIL_FIRST;
  else hs.mix(NIL_DEF, HCONST_2);
  return undefined;
}

/**
 * A list from `items[i]` on: runs of bytes (integers 0..255) are packed four to a word, as erts does for
 * strings; the first other element is returned to hash next, with the rest of the list pushed after it.
 */
function hashListFrom(hs: Hasher, stack: Work[], items: readonly Term[], i: number, tail: Term): Work | undefined {
  let c = 0;
  let sh = 0;
  for (; i < items.length && isByte(items[i]); i++) {
    sh = ((sh << 8) + Number(items[i])) >>> 0;
    if (c === 3) {
      hs.mix(sh, HCONST_4);
      c = 0;
      sh = 0;
    } else {
      c++;
    }
  }
  if (c > 0) hs.mix(sh, HCONST_4);
  if (i < items.length) {
    stack.push(new ListRest(items, i + 1, tail));
    return items[i];
  }
  return tail === NIL ? nilHash(hs) : tail;
}

/** An improper list `[a | b]` is an ErlList with a `tail` property (see `improperList`). */
function improperTail(l: ErlList): Term {
  const tail = (l as ErlList & { tail?: Term }).tail;
  return tail === undefined ? NIL : tail;
}

/** `[...items | tail]`, an improper list, for hashing (the runtime has no other use for them). */
export function improperList(items: Term[], tail: Term): ErlList {
  const l = new ErlList<Term>();
  l.push(...items);
  (l as ErlList & { tail?: Term }).tail = tail;
  return l;
}

function atomName(t: Term): string | undefined {
  if (typeof t === "string") return t;
  if (typeof t === "boolean") return t ? "true" : "false";
  if (t === null || t === undefined) return "nil";
  return undefined;
}

function isPid(t: Term): t is { id: number } {
  return typeof t === "object" && t !== null && (t as { __pid?: boolean }).__pid === true;
}

function isPlainObject(t: Term): t is Record<string, Term> {
  return typeof t === "object" && t !== null && Object.getPrototypeOf(t) === Object.prototype;
}

function describe(t: Term): string {
  if (typeof t === "function") return "a function";
  if (typeof t === "symbol") return "a symbol";
  return `a ${(t as object)?.constructor?.name ?? typeof t}`;
}
