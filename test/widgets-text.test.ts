import { describe, expect, it } from "vitest";
import { cellWidth, comparePids, escapeMermaid, escapeXml, formatBytes, formatCount, plural, truncate } from "../widgets/text.js";
import { parseXml, pngSize, texts } from "./widgets/xml.js";

describe("escaping labels that come from user code", () => {
  it("escapes every XML-significant character and survives a strict parse", () => {
    const nasty = `%RuntimeError{message: "<boom> & 'bust'"}\u0001`;
    const doc = parseXml(`<svg><text>${escapeXml(nasty)}</text><g title="${escapeXml(nasty)}"/></svg>`);
    expect(texts(doc)).toEqual([`%RuntimeError{message: "<boom> & 'bust'"}\uFFFD`]);
    expect((doc.children[1] as { attrs: Record<string, string> }).attrs.title).toBe(`%RuntimeError{message: "<boom> & 'bust'"}\uFFFD`);
  });

  it("writes Mermaid's entity codes for characters its parsers or the sanitizer would eat", () => {
    expect(escapeMermaid(`<0.12.0> "a"; #1 & \`x\`\nnext`)).toBe("#lt;0.12.0#gt; #quot;a#quot;#59; #35;1 #amp; #96;x#96; next");
    // Outside entity codes, nothing that could end a quoted label or a statement is left.
    expect(escapeMermaid(`"];\n%%#`).replace(/#\w+;/g, "")).not.toMatch(/["\n;#]/);
  });

  it("formats numbers the same on every machine", () => {
    expect(formatCount(9997)).toBe("9,997");
    expect(formatCount(1234567.5)).toBe("1,234,567.5");
    expect(formatCount(-1000)).toBe("-1,000");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(1_572_864)).toBe("1.5 MB");
    expect(plural(1, "worker")).toBe("1 worker");
    expect(plural(2, "process")).toBe("2 processes");
  });

  it("orders pids numerically", () => {
    expect(["<0.10.0>", "<0.9.0>", "name", "<0.100.0>"].sort(comparePids)).toEqual(["<0.9.0>", "<0.10.0>", "<0.100.0>", "name"]);
  });

  it("truncates with an ellipsis and counts wide characters twice", () => {
    expect(truncate("abcdefgh", 5)).toBe("abcd…");
    expect(truncate("a\n  b", 10)).toBe("a b");
    expect(cellWidth("ab漢字")).toBe(6);
  });
});

describe("the test XML checker itself", () => {
  it("rejects what a browser's XML parser rejects", () => {
    for (const bad of ["<a><b></a></b>", "<a x=1/>", "<a>&</a>", "<a>&nbsp;</a>", "<a x='1' x='2'/>", "<a/><b/>", "<a>", "text<a/>"]) {
      expect(() => parseXml(bad), bad).toThrow();
    }
    expect(parseXml(`<?xml version="1.0"?><!-- c --><a k="&lt;&#38;"><b/>t</a>`).attrs.k).toBe("<&");
  });

  it("reads PNG sizes and rejects non-PNG bytes", () => {
    expect(() => pngSize(Buffer.from("GIF89a........................"))).toThrow(/not a PNG/);
  });
});
