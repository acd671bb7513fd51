/**
 * Escaping and number formatting shared by every renderer.
 *
 * Labels come from user code (child ids, exit reasons such as `%RuntimeError{message: "<boom>"}`), so each
 * output format gets its own escaper; none of them may let a label break out of its syntax. Numbers are
 * formatted by hand rather than with `toLocaleString`, whose output depends on the ICU data Node was built with:
 * outputs must be byte-identical on every machine.
 */

/** Escape text for XML/SVG/HTML content and attribute values (always double-quoted by our writers). */
export function escapeXml(text: string): string {
  let out = "";
  for (const ch of text) {
    switch (ch) {
      case "&": out += "&amp;"; break;
      case "<": out += "&lt;"; break;
      case ">": out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case "'": out += "&#39;"; break;
      default: {
        const code = ch.codePointAt(0)!;
        // XML 1.0 forbids most control characters even as references; show them as U+FFFD.
        if (code < 0x20 && ch !== "\t" && ch !== "\n" && ch !== "\r") out += "\uFFFD";
        else if (code === 0xfffe || code === 0xffff) out += "\uFFFD";
        else out += ch;
      }
    }
  }
  return out;
}

/**
 * Escape text for a Mermaid label (inside `"..."` in a flowchart, or after `:` in a sequence diagram).
 *
 * Mermaid decodes `#name;` and `#123;` entity codes after parsing, so characters that mean something to its
 * parsers (`"` ends a label, `#` starts an entity, `;` ends a sequence-diagram statement) or to the HTML it
 * renders into (`<`, `>`, `&`: a pid such as `<0.12.0>` would otherwise be eaten as a tag by the strict
 * sanitizer) are written as entity codes. Line breaks become spaces: a label is one statement line.
 */
export function escapeMermaid(text: string): string {
  let out = "";
  for (const ch of text) {
    switch (ch) {
      case "#": out += "#35;"; break;
      case ";": out += "#59;"; break;
      case '"': out += "#quot;"; break;
      case "<": out += "#lt;"; break;
      case ">": out += "#gt;"; break;
      case "&": out += "#amp;"; break;
      case "`": out += "#96;"; break;
      case "\n": case "\r": case "\t": out += " "; break;
      default: {
        const code = ch.codePointAt(0)!;
        out += code < 0x20 ? " " : ch;
      }
    }
  }
  return out;
}

/** Shorten `text` to at most `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text.replace(/\s+/g, " "));
  return chars.length <= max ? chars.join("") : chars.slice(0, Math.max(1, max - 1)).join("") + "…";
}

/** 9997 -> "9,997"; deterministic, independent of locale data. */
export function formatCount(n: number): string {
  const sign = n < 0 ? "-" : "";
  const [int, frac] = Math.abs(n).toString().split(".");
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return sign + grouped + (frac ? "." + frac : "");
}

/** 1536 -> "1.5 KB", like Observer's memory column. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** Runtime-clock milliseconds as shown on every output: "1,250 ms". */
export function formatMs(ms: number): string {
  return `${formatCount(Math.round(ms * 1000) / 1000)} ms`;
}

/** "1 worker", "3 workers", "2 processes". */
export function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? "" : /(s|x|ch|sh)$/.test(word) ? "es" : "s"}`;
}

/** Sort key for pids "<a.b.c>": numeric, so that <0.10.0> comes after <0.9.0>; anything else sorts after pids. */
export function comparePids(a: string, b: string): number {
  const pa = /^<(\d+)\.(\d+)\.(\d+)>$/.exec(a);
  const pb = /^<(\d+)\.(\d+)\.(\d+)>$/.exec(b);
  if (pa && pb) {
    for (let i = 1; i <= 3; i++) {
      const d = Number(pa[i]) - Number(pb[i]);
      if (d !== 0) return d;
    }
    return 0;
  }
  if (pa) return -1;
  if (pb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Width of `text` in our monospace SVG font, in character cells (wide CJK/emoji count as two). */
export function cellWidth(text: string): number {
  let n = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    n += code >= 0x1100 && (code <= 0x115f || (code >= 0x2e80 && code <= 0xa4cf) || (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) || (code >= 0xfe30 && code <= 0xfe4f) || (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) || code >= 0x1f300) ? 2 : 1;
  }
  return n;
}

/** Pad to `width` character cells. */
export function padEnd(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - cellWidth(text)));
}

export function padStart(text: string, width: number): string {
  return " ".repeat(Math.max(0, width - cellWidth(text))) + text;
}
