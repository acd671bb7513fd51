/**
 * A small, strict XML parser for checking the SVG widgets produce: it throws on anything a browser's XML
 * parser would reject (unbalanced or crossed tags, unquoted or duplicate attributes, a bare `&` or `<`,
 * unknown entities, text outside the root), and returns a tree the tests can query for nodes and labels.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: Array<XmlElement | string>;
}

const NAME = /^[A-Za-z_:][\w:.-]*/;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(text: string, where: number): string {
  return text.replace(/&([^;&\s]*);?/g, (whole, body: string) => {
    if (!whole.endsWith(";")) throw new Error(`bare '&' at ${where}`);
    if (body in ENTITIES) return ENTITIES[body]!;
    const m = /^#(x[0-9a-fA-F]+|\d+)$/.exec(body);
    if (!m) throw new Error(`unknown entity &${body}; at ${where}`);
    const code = m[1]!.startsWith("x") ? parseInt(m[1]!.slice(1), 16) : parseInt(m[1]!, 10);
    if (code < 0x20 && code !== 9 && code !== 10 && code !== 13) throw new Error(`invalid character reference &${body}; at ${where}`);
    return String.fromCodePoint(code);
  });
}

export function parseXml(xml: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const fail = (msg: string): never => {
    throw new Error(`${msg} at offset ${i}: ${JSON.stringify(xml.slice(Math.max(0, i - 30), i + 30))}`);
  };
  while (i < xml.length) {
    if (xml.startsWith("<!--", i)) {
      const end = xml.indexOf("-->", i);
      if (end < 0) fail("unterminated comment");
      i = end + 3;
    } else if (xml.startsWith("<?", i)) {
      const end = xml.indexOf("?>", i);
      if (end < 0) fail("unterminated processing instruction");
      i = end + 2;
    } else if (xml.startsWith("<!DOCTYPE", i)) {
      const end = xml.indexOf(">", i);
      i = end + 1;
    } else if (xml.startsWith("<![CDATA[", i)) {
      const end = xml.indexOf("]]>", i);
      if (end < 0 || stack.length === 0) fail("bad CDATA");
      stack[stack.length - 1]!.children.push(xml.slice(i + 9, end));
      i = end + 3;
    } else if (xml.startsWith("</", i)) {
      const m = NAME.exec(xml.slice(i + 2));
      if (!m) fail("bad closing tag");
      const name = m![0];
      const open = stack.pop();
      if (!open || open.name !== name) fail(`closing </${name}> does not match <${open?.name ?? "(none)"}>`);
      i += 2 + name.length;
      while (/\s/.test(xml[i] ?? "")) i++;
      if (xml[i] !== ">") fail("bad closing tag");
      i++;
    } else if (xml[i] === "<") {
      i++;
      const m = NAME.exec(xml.slice(i));
      if (!m) fail("bad tag name");
      const el: XmlElement = { name: m![0], attrs: {}, children: [] };
      i += el.name.length;
      for (;;) {
        const ws = /^\s*/.exec(xml.slice(i))![0].length;
        i += ws;
        if (xml.startsWith("/>", i)) {
          i += 2;
          break;
        }
        if (xml[i] === ">") {
          i++;
          stack.push(el);
          break;
        }
        if (ws === 0) fail("attributes must be separated by whitespace");
        const an = NAME.exec(xml.slice(i));
        if (!an) fail("bad attribute name");
        const name = an![0];
        i += name.length;
        if (xml[i] !== "=") fail(`attribute ${name} has no value`);
        i++;
        const quote = xml[i];
        if (quote !== '"' && quote !== "'") fail(`attribute ${name} is not quoted`);
        const end = xml.indexOf(quote!, i + 1);
        if (end < 0) fail("unterminated attribute");
        const raw = xml.slice(i + 1, end);
        if (raw.includes("<")) fail(`'<' in attribute ${name}`);
        if (name in el.attrs) fail(`duplicate attribute ${name}`);
        el.attrs[name] = decode(raw, i);
        i = end + 1;
      }
      const parent = stack[stack.length - (stack[stack.length - 1] === el ? 2 : 1)];
      if (parent) parent.children.push(el);
      else if (root) fail("more than one root element");
      else root = el;
    } else {
      const end = xml.indexOf("<", i);
      const raw = xml.slice(i, end < 0 ? xml.length : end);
      if (stack.length === 0) {
        if (raw.trim() !== "") fail("text outside the root element");
      } else {
        if (raw.includes("]]>")) fail("']]>' in text");
        stack[stack.length - 1]!.children.push(decode(raw, i));
      }
      i += raw.length;
    }
  }
  if (stack.length > 0) fail(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) fail("no root element");
  return root!;
}

export function findAll(el: XmlElement, pred: (e: XmlElement) => boolean, out: XmlElement[] = []): XmlElement[] {
  if (pred(el)) out.push(el);
  for (const c of el.children) if (typeof c !== "string") findAll(c, pred, out);
  return out;
}

export function textContent(el: XmlElement): string {
  return el.children.map((c) => (typeof c === "string" ? c : textContent(c))).join("");
}

/** Text of each `<text>` element, its `<tspan>`s joined by newlines. */
export function texts(root: XmlElement): string[] {
  return findAll(root, (e) => e.name === "text").map((t) => {
    const spans = t.children.filter((c): c is XmlElement => typeof c !== "string" && c.name === "tspan");
    return spans.length > 0 ? spans.map(textContent).join("\n") : textContent(t);
  });
}

/** Width and height from a PNG's IHDR chunk; throws if `bytes` is not a PNG. */
export function pngSize(bytes: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!bytes.subarray(0, 8).equals(signature)) throw new Error("not a PNG: bad signature");
  if (bytes.toString("latin1", 12, 16) !== "IHDR") throw new Error("not a PNG: first chunk is not IHDR");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
