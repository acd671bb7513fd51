/**
 * The rules the lessons cite resolve in the project: `notebooks/otp-semantics.md` has an anchor for each
 * (`<a id="r49"></a>`), every citation in a lesson's Markdown is a link to its rule
 * (`[R49](otp-semantics.md#r49)`), every link into the document names an anchor it has, and rules cited in code
 * cells (comments, assert messages) exist too. A learner who opened `notebooks/` in JupyterLab can follow them.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const NOTEBOOKS = path.join(ROOT, "notebooks");
const DOC = "otp-semantics.md";

interface Cell {
  cell_type: "code" | "markdown";
  source: string[];
}

const docText = readFileSync(path.join(NOTEBOOKS, DOC), "utf8");
const anchors = new Set([...docText.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));
const lessons = readdirSync(NOTEBOOKS).filter((f) => /^\d\d-.*\.ipynb$/.test(f)).sort();

/** Markdown text outside `code spans`, with `[text](target)` links kept whole (rules inside them are linked). */
function proseParts(md: string): string[] {
  return md.split(/(`[^`]*`|\[[^\]]*\]\([^)]*\))/).filter((_, i) => i % 2 === 0);
}

/** Rule anchors a document must have for `R12`-style citations, as "r12". */
function ruleAnchor(n: string): string {
  return `r${n}`;
}

/** Every problem with a lesson's citations, as readable lines (empty when all resolve). */
function problems(file: string, nb: { cells: Cell[] } = JSON.parse(readFileSync(path.join(NOTEBOOKS, file), "utf8"))): string[] {
  const out: string[] = [];
  nb.cells.forEach((cell, i) => {
    const text = cell.source.join("");
    if (cell.cell_type === "markdown") {
      for (const part of proseParts(text)) {
        for (const m of part.matchAll(/\bR(\d+)\b/g)) out.push(`${file} cell ${i}: ${m[0]} is cited without a link; write [${m[0]}](${DOC}#${ruleAnchor(m[1])})`);
      }
      for (const m of text.matchAll(/\[([^\]]*)\]\(([^)]*)\)/g)) {
        const [, label, target] = m;
        const [file2, anchor] = target.split("#");
        if (file2 !== DOC) continue;
        if (anchor !== undefined && !anchors.has(anchor)) out.push(`${file} cell ${i}: [${label}](${target}) points at #${anchor}, which ${DOC} lacks`);
        const rule = /^R(\d+)$/.exec(label);
        if (rule && anchor !== ruleAnchor(rule[1])) out.push(`${file} cell ${i}: [${label}](${target}) should point at #${ruleAnchor(rule[1])}`);
      }
    } else {
      for (const m of text.matchAll(/\bR(\d+)\b/g)) {
        if (!anchors.has(ruleAnchor(m[1]))) out.push(`${file} cell ${i} (code): ${m[0]} is cited but ${DOC} has no rule ${m[0]}`);
      }
    }
  });
  return out;
}

describe(`lessons cite rules that ${DOC} defines`, () => {
  it("the document has one anchor per rule, R1 to R97 (there is no R29 or R30), and each anchor once", () => {
    const ids = [...docText.matchAll(/<a id="(r\d+)"><\/a>/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    const expected = Array.from({ length: 97 }, (_, i) => `r${i + 1}`).filter((r) => r !== "r29" && r !== "r30");
    // Rules added after the numbering was laid out sit in the section they belong to (R92, signal order, in 1.A);
    // the others are in numeric order.
    const later = ["r92"];
    expect(ids.filter((r) => !later.includes(r))).toEqual(expected.filter((r) => !later.includes(r)));
    expect([...ids].sort()).toEqual([...expected].sort());
    // each anchor is followed by the rule's name, so a reader landing on it sees which rule it is
    for (const id of ids) expect(docText).toContain(`<a id="${id}"></a>**R${id.slice(1)}**`);
  });

  it("the document's own links resolve", () => {
    const missing = [...docText.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]).filter((a) => !anchors.has(a));
    expect(missing).toEqual([]);
  });

  it.each(lessons)("%s: every citation links to a rule the document has", (file) => {
    expect(problems(file)).toEqual([]);
  });

  it("the check reports a rule the document lacks, an unlinked citation and a link to the wrong rule", () => {
    const nb = {
      cells: [
        { cell_type: "markdown" as const, source: ["See [R999](otp-semantics.md#r999) and R12, not `R7`.\n", "[R4](otp-semantics.md#r5)"] },
        { cell_type: "code" as const, source: ["assert.equal(x, 1); // R998\n"] },
      ],
    };
    expect(problems("x.ipynb", nb)).toEqual([
      "x.ipynb cell 0: R12 is cited without a link; write [R12](otp-semantics.md#r12)",
      "x.ipynb cell 0: [R999](otp-semantics.md#r999) points at #r999, which otp-semantics.md lacks",
      "x.ipynb cell 0: [R4](otp-semantics.md#r5) should point at #r4",
      "x.ipynb cell 1 (code): R998 is cited but otp-semantics.md has no rule R998",
    ]);
  });

  it("the README and notebooks/README.md link to the document", () => {
    expect(readFileSync(path.join(ROOT, "README.md"), "utf8")).toContain("(notebooks/otp-semantics.md)");
    expect(readFileSync(path.join(NOTEBOOKS, "README.md"), "utf8")).toContain(`(${DOC})`);
  });
});
