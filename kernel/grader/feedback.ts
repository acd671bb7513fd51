/**
 * The feedback page of a graded submission (nbgrader's `generate_feedback`): one self-contained HTML file with
 * the score, a table of the tests (points, status, message), and the graded notebook itself, each test's result
 * right under its cell.
 *
 * What students must not see stays out, unless `revealHidden` (staff's copy):
 *   - test cells show their source without the hidden-test blocks (as `assign` released them), and a test
 *     cell with hidden parts shows no outputs, only its result: an assertion's output could quote hidden code;
 *   - every text on the page (messages, outputs, the student's own cells) goes through `redact`
 *     (`hiddenTextRedactor`), which removes text of the hidden-test blocks wherever it appears.
 *
 * What the submission printed is untrusted: everything is escaped, HTML outputs are not rendered (their plain
 * text is), pictures are shown only as `<img>` (an SVG in an `<img>` runs no script), and the page's Content
 * Security Policy allows no script, no request, and images only from `data:` URLs.
 */
import { hasHiddenTests, stripBlocks } from "./assign.js";
import { gradeId, joinLines, sourceText, type Cell, type Notebook, type Output } from "./notebook.js";
import { plain, type GradeResults, type TestResult } from "./results.js";
import type { SubmissionStatus } from "./grade-submission.js";

export interface FeedbackOptions {
  /** Show hidden tests' text and their outputs (for staff). */
  revealHidden?: boolean;
  /** Removes hidden-test text (default: nothing; `grade` passes `hiddenTextRedactor(source)`). */
  redact?: (text: string) => string;
  /** The name shown in the title (default: the results' `submission`). */
  name?: string;
  status?: SubmissionStatus;
}

const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

const STYLE = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
.score { font-size: 1.25rem; font-weight: 600; }
.status-ok { color: #1a7f37; } .status-bad { color: #cf222e; }
table.tests { border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; }
table.tests th, table.tests td { border: 1px solid #d0d7de; padding: .35rem .6rem; text-align: left; vertical-align: top; }
table.tests td.points { white-space: nowrap; text-align: right; }
table.md { border-collapse: collapse; } table.md th, table.md td { border: 1px solid #d0d7de; padding: .2rem .5rem; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: .6rem .8rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; }
pre.output { background: #fff; }
pre.stderr { background: #fff8f0; }
pre.error { background: #fff0f0; border-color: #ffb3b3; }
code { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; background: #f6f8fa; padding: 0 .2rem; border-radius: 3px; }
.cell { margin: 1.25rem 0; }
.label { font: 12px ui-monospace, monospace; color: #57606a; }
.result { border-left: 4px solid; padding: .4rem .8rem; margin: .5rem 0 1rem; border-radius: 0 6px 6px 0; }
.result.passed { border-color: #1a7f37; background: #f0fff4; }
.result.failed { border-color: #cf222e; background: #fff5f5; }
.result pre { background: transparent; border: 0; padding: 0; margin: .25rem 0 0; }
.note { color: #57606a; font-style: italic; }
img { max-width: 100%; }
ul.summary { padding-left: 1.2rem; }
`;

export function feedbackPage(results: GradeResults, graded: Notebook | null, source: Notebook | null, options: FeedbackOptions = {}): string {
  const reveal = options.revealHidden === true;
  const redact = reveal ? (s: string) => s : (options.redact ?? ((s: string) => s));
  const t = (s: string) => esc(redact(plain(s)));
  const name = options.name ?? results.submission;
  const byId = new Map(results.tests.map((x) => [x.grade_id, x]));
  const hiddenIds = new Set<string>();
  for (const c of source?.cells ?? []) {
    const id = gradeId(c);
    if (id !== undefined && hasHiddenTests(sourceText(c))) hiddenIds.add(id);
  }

  const out: string[] = [];
  out.push("<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">');
  out.push(`<meta http-equiv="Content-Security-Policy" content="${CSP}">`);
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<title>Feedback: ${esc(name)}</title>`, `<style>${STYLE}</style>`, "</head>", "<body>");
  out.push(`<h1>Feedback: ${esc(name)}</h1>`);
  const allPassed = results.tests.every((x) => x.status === "passed");
  out.push(`<p class="score">Score: <span id="score">${results.score} / ${results.max_score}</span> points</p>`);
  if (options.status && options.status !== "ok") out.push(`<p class="status-bad">Status: ${esc(options.status)}</p>`);

  const notes: string[] = [];
  if (results.error) notes.push(`The submission could not be graded: ${t(results.error)}`);
  else if (results.kernel_error) notes.push(`The notebook could not be graded completely: ${t(results.kernel_error)}`);
  else if (!results.finished) notes.push("Grading did not finish.");
  if (results.budget_exhausted) notes.push(`Stopped: ${t(results.budget_exhausted)}; the cells after that were not run.`);
  for (const i of (results.incidents ?? []).filter((x) => x.kind !== "budget").slice(0, 20)) notes.push(`Cell ${i.cell} (${esc(i.name)}) ${t(i.what)}.`);
  for (const x of (results.truncated_outputs ?? []).slice(0, 20)) notes.push(`Cell ${x.cell} (${esc(x.name)}): ${t(x.message)}.`);
  if (results.restored.length) notes.push(`Locked cells restored from the assignment (your edits to them were not used): ${esc(results.restored.join(", "))}.`);
  if (results.reinserted.length) notes.push(`Deleted locked cells put back: ${esc(results.reinserted.join(", "))}.`);
  if (results.kernel_restarts) notes.push(`The kernel was restarted ${results.kernel_restarts} time(s) after a cell timed out or stopped it.`);
  if (!reveal && hiddenIds.size) notes.push("Tests marked <em>hidden</em> have checks you do not see here; their results are.");
  if (notes.length) out.push('<ul class="summary">', ...notes.map((n) => `<li>${n}</li>`), "</ul>");

  out.push('<table class="tests">', "<thead><tr><th>test</th><th>points</th><th>result</th></tr></thead>", "<tbody>");
  for (const x of results.tests) {
    out.push(
      `<tr class="${x.status === "passed" ? "passed" : "failed"}"><td><code>${esc(x.grade_id)}</code>${x.hidden ? " (hidden)" : ""}</td>` +
        `<td class="points">${x.score} / ${x.max_score}</td><td>${x.status === "passed" ? "passed" : `<strong>${esc(x.status)}</strong>: ${t(x.feedback)}`}</td></tr>`,
    );
  }
  out.push("</tbody>", "</table>");
  if (allPassed && results.tests.length) out.push('<p class="status-ok">Every test passed.</p>');

  if (graded) {
    out.push("<h2>Your notebook, as graded</h2>");
    const seen = new Set<string>();
    graded.cells.forEach((cell, index) => {
      const id = gradeId(cell);
      const test = id !== undefined && !seen.has(id) ? byId.get(id) : undefined;
      if (test) seen.add(id!);
      out.push(renderCell(cell, index, test, id !== undefined && hiddenIds.has(id), reveal, t));
    });
  }
  out.push("</body>", "</html>", "");
  return out.join("\n");
}

function renderCell(cell: Cell, index: number, test: TestResult | undefined, hidden: boolean, reveal: boolean, t: (s: string) => string): string {
  const out: string[] = [`<div class="cell" id="cell-${index + 1}">`];
  let text = sourceText(cell);
  if (cell.cell_type === "markdown") {
    out.push(markdownToHtml(text, t));
    out.push("</div>");
    return out.join("\n");
  }
  if (cell.cell_type !== "code") {
    out.push(`<pre>${t(text)}</pre>`, "</div>");
    return out.join("\n");
  }
  const concealed = !reveal && hasHiddenTests(text);
  if (concealed) {
    try {
      text = stripBlocks(text, `cell ${index + 1}`).text.replace(/\s+$/, "");
    } catch {
      text = "";
    }
  }
  const id = gradeId(cell);
  const count = typeof cell.execution_count === "number" ? String(cell.execution_count) : " ";
  out.push(`<div class="label">In [${count}]${id ? ` · ${esc(id)}` : ""}</div>`);
  out.push(`<pre class="code">${t(text)}</pre>`);
  if (concealed) out.push('<p class="note">(hidden tests and this cell\'s outputs are not shown)</p>');
  else for (const o of cell.outputs ?? []) out.push(renderOutput(o, t));
  if (test) {
    const ok = test.status === "passed";
    out.push(
      `<div class="result ${ok ? "passed" : "failed"}" data-grade-id="${esc(test.grade_id)}"><strong>${esc(test.grade_id)}${hidden ? " (hidden)" : ""}: ` +
        `${test.score} / ${test.max_score} points</strong> — ${ok ? "passed" : esc(test.status)}${ok ? "" : `<pre>${t(test.feedback)}</pre>`}</div>`,
    );
  }
  out.push("</div>");
  return out.join("\n");
}

function renderOutput(o: Output, t: (s: string) => string): string {
  switch (o.output_type) {
    case "stream": {
      const name = o.name === "stderr" ? "stderr" : "stdout";
      return `<pre class="output ${name}">${t(joinLines(o.text as string | string[]))}</pre>`;
    }
    case "error": {
      const tb = Array.isArray(o.traceback) ? (o.traceback as unknown[]).map(String).join("\n") : "";
      const head = `${String(o.ename ?? "Error")}: ${String(o.evalue ?? "")}`;
      return `<pre class="error">${t(tb.trim() ? tb : head)}</pre>`;
    }
    case "execute_result":
    case "display_data": {
      const data = (o.data ?? {}) as Record<string, string | string[]>;
      const svg = data["image/svg+xml"];
      if (svg !== undefined) return `<div class="output"><img alt="picture" src="data:image/svg+xml;base64,${Buffer.from(joinLines(svg), "utf8").toString("base64")}"></div>`;
      const png = data["image/png"];
      if (png !== undefined) {
        const b64 = joinLines(png).replace(/\s+/g, "");
        if (/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return `<div class="output"><img alt="picture" src="data:image/png;base64,${b64}"></div>`;
      }
      const textOut = data["text/plain"] ?? data["text/markdown"];
      if (textOut !== undefined) return `<pre class="output">${t(joinLines(textOut))}</pre>`;
      return "";
    }
    default:
      return "";
  }
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/**
 * A small Markdown renderer for the lessons' text: headings, paragraphs, lists, block quotes, fenced code,
 * pipe tables, and inline code, bold, italics and links (http, https and in-page only). Everything is escaped
 * (`t`) first: raw HTML in a cell shows as text.
 */
export function markdownToHtml(md: string, t: (s: string) => string = esc): string {
  const lines = md.replace(/\r\n?/g, "\n").split("\n");
  const out: string[] = [];
  let i = 0;
  const isBlank = (l: string) => l.trim() === "";
  const listItem = /^\s{0,3}([-*+]|\d+[.)])\s+(.*)$/;
  while (i < lines.length) {
    const line = lines[i]!;
    if (isBlank(line)) {
      i++;
      continue;
    }
    const fence = /^\s{0,3}(```|~~~)/.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.trimStart().startsWith(fence[1]!)) body.push(lines[i++]!);
      i++;
      out.push(`<pre>${t(body.join("\n"))}</pre>`);
      continue;
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const n = heading[1]!.length;
      out.push(`<h${n}>${inline(heading[2]!, t)}</h${n}>`);
      i++;
      continue;
    }
    if (/^\s{0,3}(-{3,}|\*{3,}|_{3,})\s*$/.test(line)) {
      out.push("<hr>");
      i++;
      continue;
    }
    if (/^\s*\|/.test(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1]!)) {
      const row = (l: string) => l.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
      out.push('<table class="md">', `<tr>${row(line).map((c) => `<th>${inline(c, t)}</th>`).join("")}</tr>`);
      i += 2;
      while (i < lines.length && /^\s*\|/.test(lines[i]!)) out.push(`<tr>${row(lines[i++]!).map((c) => `<td>${inline(c, t)}</td>`).join("")}</tr>`);
      out.push("</table>");
      continue;
    }
    if (/^\s{0,3}>/.test(line)) {
      const body: string[] = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i]!)) body.push(lines[i++]!.replace(/^\s{0,3}>\s?/, ""));
      out.push(`<blockquote>${markdownToHtml(body.join("\n"), t)}</blockquote>`);
      continue;
    }
    const item = listItem.exec(line);
    if (item) {
      const ordered = /\d/.test(item[1]!);
      const items: string[] = [];
      while (i < lines.length) {
        const m = listItem.exec(lines[i]!);
        if (m) {
          items.push(m[2]!);
          i++;
        } else if (!isBlank(lines[i]!) && /^\s+\S/.test(lines[i]!) && items.length) {
          items[items.length - 1] += " " + lines[i++]!.trim();
        } else break;
      }
      const tag = ordered ? "ol" : "ul";
      out.push(`<${tag}>${items.map((x) => `<li>${inline(x, t)}</li>`).join("")}</${tag}>`);
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && !isBlank(lines[i]!) && !/^\s{0,3}(#{1,6}\s|```|~~~|>)/.test(lines[i]!) && !(para.length && listItem.test(lines[i]!))) para.push(lines[i++]!);
    out.push(`<p>${inline(para.join("\n"), t)}</p>`);
  }
  return out.join("\n");
}

/** Inline Markdown: code spans first (their text is literal), then links, bold and italics on escaped text. */
function inline(s: string, t: (s: string) => string): string {
  return s
    .split(/(`+[^`]*?`+)/)
    .map((part, k) => {
      if (k % 2 === 1) return `<code>${t(part.replace(/^`+\s?|\s?`+$/g, ""))}</code>`;
      let h = t(part);
      h = h.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, label: string, url: string) => {
        const u = url.replace(/&amp;/g, "&");
        return /^(https?:\/\/|#)/i.test(u) ? `<a href="${esc(u)}">${label}</a>` : label;
      });
      h = h.replace(/\*\*([^*]+)\*\*|__([^_]+)__/g, (_m, a?: string, b?: string) => `<strong>${a ?? b}</strong>`);
      h = h.replace(/(^|[^\w*])\*(?!\s)([^*]+?)(?<!\s)\*(?!\w)|(^|[^\w])_(?!\s)([^_]+?)(?<!\s)_(?!\w)/g, (_m, p1?: string, a?: string, p2?: string, b?: string) => `${p1 ?? p2 ?? ""}<em>${a ?? b}</em>`);
      return h;
    })
    .join("");
}
