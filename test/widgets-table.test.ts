import { afterEach, describe, expect, it } from "vitest";
import type { ProcessInfo } from "../runtime/observe.js";
import { processTable } from "../widgets/process-table.js";
import { useRuntime, type RuntimeLike } from "../widgets/sources.js";
import { shopProcesses } from "./widgets/fixtures.js";
import { findAll, parseXml, pngSize, textContent } from "./widgets/xml.js";

describe("processTable", () => {
  afterEach(() => useRuntime(null));
  const table = processTable(shopProcesses());

  it("lists processes in pid order with Observer's columns, as aligned text", () => {
    expect(table.text.split("\n")).toEqual([
      "4 processes",
      "pid        name                       behaviour   code                 status                 mailbox  memory   work  restarts  links              monitors  monitored by",
      "---------  -------------------------  ----------  -------------------  ---------------------  -------  ------  -----  --------  -----------------  --------  ------------",
      "<0.80.0>   Shop.Sup                   supervisor  Shop.Sup v1          waiting (traps exits)        0  2.8 KB    120         0  <0.95.0> <0.82.0>",
      "<0.82.0>   <script>alert(1)</script>  supervisor  Shop.Payments v1     exiting (traps exits)        0  1.9 KB     77         0  <0.80.0>                     <0.95.0>",
      "<0.95.0>   cache                      gen_server  Shop.Cache v2 (old)  running                      3  5.0 KB  4,711         2  <0.80.0>           <0.82.0>",
      "<0.100.0>                             process                          suspended                1,200  1.5 MB      9         0",
    ]);
  });

  it("is HTML with every value escaped and troubled rows tinted", () => {
    const html = String(table.bundle["text/html"]);
    expect(html).not.toContain("<script>");
    expect(html).toContain("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>");
    expect(html).toContain(`<tr style="background:#ffebee;color:#b71c1c"><td>&lt;0.82.0&gt;</td>`);
    // The HTML is well-formed (checked as XML), with a header and one row per process.
    const doc = parseXml(`<root>${html}</root>`);
    const rows = findAll(doc, (e) => e.name === "tr");
    expect(rows.length).toBe(5);
    expect(findAll(rows[0]!, (e) => e.name === "th").map(textContent)).toEqual(["pid", "name", "behaviour", "code", "status", "mailbox", "memory", "work", "restarts", "links", "monitors", "monitored by"]);
    // Its stylesheet only targets our own class.
    const css = textContent(findAll(doc, (e) => e.name === "style")[0]!);
    for (const rule of css.split("}").filter(Boolean)) expect(rule.startsWith(".otp-lab-pt")).toBe(true);
  });

  it("has an SVG with a row per process and a PNG of it", () => {
    const svg = parseXml(table.svg);
    expect(findAll(svg, (e) => e.attrs.class === "row").map((r) => r.attrs["data-pid"])).toEqual(["<0.80.0>", "<0.82.0>", "<0.95.0>", "<0.100.0>"]);
    expect(pngSize(Buffer.from(table.png, "base64")).width).toBe(Number(svg.attrs.width));
  });

  it("sorts by a column, largest first, and limits rows", () => {
    const byMemory = processTable(shopProcesses(), { sortBy: "memory", limit: 2 });
    expect(byMemory.rows.map((r) => r.pid)).toEqual(["<0.100.0>", "<0.95.0>"]);
    expect(byMemory.text.split("\n").at(-1)).toBe("… 2 more processes");
    expect(byMemory.text.split("\n")[0]).toBe("4 processes, by memory");
  });

  it("shows every live process when called with no argument, and looks pids up", () => {
    const infos = shopProcesses();
    useRuntime({
      processes: () => infos,
      processInfo: (pid: string) => infos.find((p) => p.pid === pid),
    } as unknown as RuntimeLike);
    expect(processTable().rows.length).toBe(4);
    expect(processTable("<0.95.0>").rows.map((r: ProcessInfo) => r.name)).toEqual(["cache"]);
    expect(() => processTable("<0.7.0>")).toThrow(/no live process <0.7.0>/);
  });
});
