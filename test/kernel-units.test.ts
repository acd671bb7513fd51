/**
 * Unit tests of the kernel's pure parts: message signing, the cell transform, is_complete, history search,
 * the logo encoder. (Everything protocol-facing is also tested end to end with a real client.)
 */
import { inflateSync } from "node:zlib";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { History, globToRegExp } from "../kernel/history.js";
import { isComplete } from "../kernel/is-complete.js";
import { encodePng, logoPng } from "../kernel/logo.js";
import { compileCell } from "../kernel/transform.js";
import { DELIMITER, Signer, decode, encode, makeHeader } from "../kernel/wire.js";

describe("wire signatures", () => {
  const signer = new Signer("secret-key");
  const message = () => ({
    header: makeHeader("execute_request", "s1"),
    parent_header: {},
    metadata: {},
    content: { code: "1 + 1" },
  });
  const frames = (m = message(), s = signer) => encode([Buffer.from("id")], m, s).map((f) => Buffer.from(f as string));

  it("accepts what it signed and returns identities and the parsed message", () => {
    const d = decode(frames(), new Signer("secret-key"));
    expect(d.ok).toBe(true);
    if (d.ok) {
      expect(d.identities.map(String)).toEqual(["id"]);
      expect(d.message.content).toEqual({ code: "1 + 1" });
    }
  });

  it("rejects a wrong key, a missing signature, changed content and a replay", () => {
    const verifier = new Signer("secret-key");
    expect(decode(frames(message(), new Signer("other")), verifier)).toEqual({ ok: false, reason: "bad-signature" });
    const unsigned = frames();
    unsigned[unsigned.findIndex((f) => f.toString() === DELIMITER) + 1] = Buffer.alloc(0);
    expect(decode(unsigned, verifier)).toEqual({ ok: false, reason: "bad-signature" });
    const tampered = frames();
    const at = tampered.findIndex((f) => f.toString() === DELIMITER);
    tampered[at + 5] = Buffer.from(JSON.stringify({ code: "process.exit()" }));
    expect(decode(tampered, verifier)).toEqual({ ok: false, reason: "bad-signature" });
    const once = frames();
    expect(decode(once, verifier).ok).toBe(true);
    expect(decode(once, verifier)).toEqual({ ok: false, reason: "replayed" });
  });

  it("rejects frames without the delimiter or with too few parts", () => {
    expect(decode([Buffer.from("a"), Buffer.from("b")], signer)).toEqual({ ok: false, reason: "no-delimiter" });
    expect(decode([Buffer.from(DELIMITER), Buffer.from("sig")], signer)).toEqual({ ok: false, reason: "too-short" });
  });

  it("signs with HMAC-SHA256 as jupyter_client does (hex over header, parent, metadata, content)", async () => {
    const { createHmac } = await import("node:crypto");
    const body = ['{"a":1}', "{}", "{}", '{"b":2}'];
    expect(signer.sign(body)).toBe(createHmac("sha256", "secret-key").update(body.join("")).digest("hex"));
    expect(new Signer("").sign(body)).toBe("");
  });
});

describe("cell transform", () => {
  const compile = (code: string) => {
    const r = compileCell(ts, code);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.script;
  };

  it("turns top-level declarations into globals and collects their names", () => {
    const s = compile("const a = 1; let { b, c: [d] } = x; function f() {} class K {} enum E { A }\nimport fs from 'node:fs';");
    expect(s.declared).toEqual(["a", "b", "d", "f", "K", "E", "fs"]);
    expect(s.js).toMatch(/^var a, b, d, f, K, E, fs;\n\(function\* \(__otp, setTimeout, setInterval, setImmediate\) \{\n\s+"use strict";\n/);
    expect(s.mode).toBe("generator");
  });

  it("declares a cell's names as globals also when evaluated by an indirect eval (a browser has no vm.Script)", () => {
    const s = compile("const portableA = 40;\nfunction portableF() { return portableA + 2; }\nportableF()");
    const g = globalThis as Record<string, unknown>;
    try {
      const cell = (0, eval)(s.js) as (otp: unknown) => Generator<unknown, unknown>;
      const run = cell({ result: (v: unknown) => v }).next();
      expect(run).toEqual({ value: 42, done: true });
      expect(g.portableA).toBe(40);
      expect(typeof g.portableF).toBe("function");
      // The cell's code is strict: assigning to an undeclared name throws.
      const strict = compile("undeclaredPortableName = 1;");
      expect(() => ((0, eval)(strict.js) as (otp: unknown) => Generator<unknown, unknown>)({ result: (v: unknown) => v }).next()).toThrow(ReferenceError);
    } finally {
      delete g.portableA;
      delete g.portableF;
    }
  });

  it("makes top-level await a yield, and leaves nested awaits alone", () => {
    const s = compile("const v = await p + 1;\nconst g = async () => { await q };");
    expect(s.js).toContain("v = (yield p) + 1;");
    expect(s.js).toContain("await q");
  });

  it("awaits a parenthesized expression at the top level: `await (async () => 1)()` is not a call of `await`", () => {
    const s = compile("const r = await (async () => { await sleep(10); return 42; })();\nawait (p)");
    expect(s.js).toMatch(/r = \(yield \(async \(\) => \{ await sleep\(10\); return 42; \}\)\(\)\);/);
    expect(s.js).toContain("return __otp.result((yield (p)));");
    expect(s.js).not.toMatch(/\bawait\(/);
    expect(s.js).not.toContain("export {}");
  });

  it("falls back to an async function for top-level for await", () => {
    expect(compile("for await (const x of xs) {}").mode).toBe("async");
  });

  it("returns the last expression statement, not a declaration", () => {
    expect(compile("let n = 1;\nn + 1").js).toContain("return __otp.result(n + 1);");
    expect(compile("let n = 1;").js).not.toContain("__otp.result");
    expect(compile("enum E { A }").js).not.toContain("__otp.result");
  });

  it("reports syntax errors at the cell's line and column", () => {
    const r = compileCell(ts, "const ok = 1;\nconst x = ;");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatchObject({ line: 2, column: 11, code: 1109 });
  });
});

describe("is_complete", () => {
  const status = (code: string) => isComplete(ts, code);

  it("tells complete, incomplete with indent, and invalid apart", () => {
    expect(status("1 + 1")).toEqual({ status: "complete" });
    expect(status("function f() {")).toEqual({ status: "incomplete", indent: "  " });
    expect(status("const a = [\n    1,")).toEqual({ status: "incomplete", indent: "    " });
    expect(status("const t = `a${b}")).toEqual({ status: "incomplete", indent: "" });
    expect(status("const y =")).toEqual({ status: "incomplete", indent: "" });
    expect(status(")")).toEqual({ status: "invalid" });
    expect(status("1 +* 2")).toEqual({ status: "invalid" });
    expect(status("const re = /[(]/; re")).toEqual({ status: "complete" });
  });
});

describe("history", () => {
  it("answers tail, range and search (glob, unique, n) as IPython does", () => {
    const h = new History();
    ["1 + 1", "x = 2", "1 + 1", "1 + 2"].forEach((c, i) => h.add(i + 1, c));
    h.setOutput(4, "3");
    expect(h.query({ hist_access_type: "tail", n: 2 })).toEqual([
      [1, 3, "1 + 1"],
      [1, 4, "1 + 2"],
    ]);
    expect(h.query({ hist_access_type: "tail", n: 1, output: true })).toEqual([[1, 4, ["1 + 2", "3"]]]);
    expect(h.query({ hist_access_type: "range", session: 1, start: 2, stop: 3 })).toEqual([[1, 2, "x = 2"]]);
    expect(h.query({ hist_access_type: "search", pattern: "1 + ?" }).length).toBe(3);
    expect(h.query({ hist_access_type: "search", pattern: "1 + ?", unique: true })).toEqual([
      [1, 3, "1 + 1"],
      [1, 4, "1 + 2"],
    ]);
    expect(h.query({ hist_access_type: "search", pattern: "*", n: 1 })).toEqual([[1, 4, "1 + 2"]]);
    expect(globToRegExp("a[bc]*").test("acxyz")).toBe(true);
    expect(globToRegExp("a.b").test("axb")).toBe(false);
  });
});

describe("logo", () => {
  it("encodes valid PNGs whose pixels round-trip", () => {
    const rgba = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 128]);
    const png = encodePng(2, 1, rgba);
    const idat = png.subarray(png.indexOf("IDAT") + 4, png.indexOf("IEND") - 8);
    expect([...inflateSync(idat)]).toEqual([0, ...rgba]);
    const logo = logoPng(32);
    expect(logo.readUInt32BE(16)).toBe(32);
    expect(logo.readUInt32BE(20)).toBe(32);
  });
});
