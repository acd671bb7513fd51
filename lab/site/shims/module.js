// `node:module` in the browser kernel's worker: `SourceMap#findEntry`, which maps a cell's stack frames back to
// its own lines (kernel/traceback.ts), with Node's semantics: the mapping at or before the generated position.
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...B64].map((c, i) => [c, i]));

function decodeMappings(mappings) {
  const out = []; // [genLine, genCol, origLine, origCol], in generated order
  let origLine = 0, origCol = 0, source = 0;
  mappings.split(';').forEach((line, genLine) => {
    let genCol = 0;
    for (const segment of line.split(',')) {
      if (!segment) continue;
      const values = [];
      let value = 0, shift = 0;
      for (const c of segment) {
        const d = DIGIT.get(c);
        value += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      genCol += values[0];
      if (values.length >= 4) {
        source += values[1];
        origLine += values[2];
        origCol += values[3];
        out.push([genLine, genCol, origLine, origCol]);
      } else out.push([genLine, genCol]);
    }
  });
  return out;
}

export class SourceMap {
  constructor(payload) {
    this.payload = payload;
    this.entries = decodeMappings(payload.mappings ?? '');
  }
  findEntry(line, column) {
    let found = null;
    for (const e of this.entries) {
      if (e[0] < line || (e[0] === line && e[1] <= column)) found = e;
      else break;
    }
    if (!found || found.length < 4) return {};
    return { generatedLine: found[0], generatedColumn: found[1], originalLine: found[2], originalColumn: found[3] };
  }
}
export default { SourceMap, createRequire };

// There is no require in a worker: callers fall back (the language service then looks for @types/node by path).
export function createRequire() {
  return { resolve: spec => { throw new Error(`Cannot resolve ${spec} in the browser`); } };
}
