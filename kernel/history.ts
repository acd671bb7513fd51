/**
 * Input history for `history_request` (tail, range, search), kept in memory for the kernel's lifetime.
 *
 * Entries are `[session, line, input]`, or `[session, line, [input, output]]` with `output: true`; `line` is
 * the execution count. IPython numbers sessions in a database; this kernel has one session, numbered 1, and
 * also accepts 0 and negative numbers for "the current session" as IPython does.
 */
export const SESSION = 1;

interface Entry {
  line: number;
  input: string;
  output: string | null;
}

export type HistoryItem = [number, number, string | [string, string | null]];

export interface HistoryRequest {
  hist_access_type?: "tail" | "range" | "search";
  output?: boolean;
  raw?: boolean;
  session?: number;
  start?: number;
  stop?: number;
  n?: number;
  pattern?: string;
  unique?: boolean;
}

export class History {
  private readonly entries: Entry[] = [];

  add(line: number, input: string): void {
    this.entries.push({ line, input, output: null });
  }

  setOutput(line: number, output: string): void {
    const e = this.entries.findLast((x) => x.line === line);
    if (e) e.output = output;
  }

  query(req: HistoryRequest): HistoryItem[] {
    const out = req.output === true;
    const item = (e: Entry): HistoryItem => [SESSION, e.line, out ? [e.input, e.output] : e.input];
    switch (req.hist_access_type) {
      case "range": {
        if (req.session !== undefined && req.session > 0 && req.session !== SESSION) return [];
        const start = req.start ?? 1;
        const stop = req.stop ?? Infinity;
        return this.entries.filter((e) => e.line >= start && (stop === null || e.line < stop)).map(item);
      }
      case "search": {
        const re = globToRegExp(req.pattern ?? "*");
        let hits = this.entries.filter((e) => re.test(e.input));
        if (req.unique) {
          // Keep the latest occurrence of each input, in order.
          const seen = new Set<string>();
          hits = hits.reverse().filter((e) => (seen.has(e.input) ? false : (seen.add(e.input), true))).reverse();
        }
        if (req.n !== undefined && req.n !== null && req.n > 0) hits = hits.slice(-req.n);
        return hits.map(item);
      }
      case "tail":
      default: {
        const n = req.n ?? 10;
        return this.entries.slice(-n).map(item);
      }
    }
  }
}

/** SQLite GLOB semantics (IPython searches with GLOB): `*`, `?`, `[...]`, case-sensitive, whole input. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith("^")) body = "^" + body.slice(1).replace(/\\/g, "\\\\");
        else body = body.replace(/\\/g, "\\\\");
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
