/**
 * The widgets rows of `npm run bench`: a real supervision tree of N processes drawn as SVG + grouped Mermaid,
 * and a Vega-Lite restarts chart of N restart events rendered to SVG. The tree and the events come from the
 * runtime (built untimed); only the drawing is timed.
 */
import { serve } from "../lib/host.mjs";

const dist = process.env.OTP_LAB_DIST ?? new URL("../../dist/", import.meta.url).href;
const rtApi = await import(`${dist}runtime/index.js`);
const { Runtime, setRuntime, GenServer, Supervisor, DynamicSupervisor, snapshot, exit } = rtApi;

const now = () => performance.now();
const Idle = { init: (arg) => ["ok", arg] };
const worker = (id) => ({ id, start: () => GenServer.startLink(Idle, null) });

/** A tree of exactly `n` processes: app → [db (3 workers), pool (DynamicSupervisor of the rest)]. */
function buildTree(n) {
  const rt = new Runtime({ clock: "virtual" });
  setRuntime(rt);
  const [, app] = Supervisor.startLink(
    [
      { id: "db", type: "supervisor", start: () => Supervisor.startLink([worker("conn1"), worker("conn2"), worker("conn3")], { strategy: "one_for_all" }) },
      { id: "pool", type: "supervisor", start: () => DynamicSupervisor.startLink({ name: "pool" }) },
    ],
    { strategy: "rest_for_one", name: "app" },
  ).sync();
  const pool = rt.whereis("pool");
  const rest = n - 6; // app, db, 3 conns, pool
  rt.runSync(function* () {
    for (let i = 0; i < rest; i++) yield* DynamicSupervisor.startChild(pool, worker(`w${i}`));
  }, "starting the pool");
  const count = rt.processes().filter((p) => p !== rt.shell && !p.driver).length;
  if (count !== n) throw new Error(`built ${count} processes, wanted ${n}`);
  return { rt, app };
}

/** `n` real restarts: 10 workers, one killed every 10 ms of virtual time (intensity 1000 in 5 s is never hit). */
function restartEvents(n) {
  const rt = new Runtime({ clock: "virtual", eventCapacity: 10 * n });
  setRuntime(rt);
  const [, sup] = Supervisor.startLink(Array.from({ length: 10 }, (_, i) => worker(`w${i}`)), { strategy: "one_for_one", intensity: 1000, period: 5, name: "restarter" }).sync();
  for (let i = 0; i < n; i++) {
    const children = Supervisor.whichChildren(sup).sync();
    exit(children[i % 10].child, "kill");
    rt.advance(10);
  }
  const events = rt.events.ofType("restart");
  if (events.length !== n) throw new Error(`got ${events.length} restart events, wanted ${n}`);
  return { events, limits: snapshot(sup) };
}

let cache = null;

serve({
  async widgets({ processes, events }) {
    const w = await import(`${dist}widgets/index.js`);
    const { drawTree } = await import(`${dist}widgets/tree-draw.js`);
    const { stopVegaRenderer } = await import(`${dist}widgets/vega-render.js`);
    if (!cache || cache.processes !== processes || cache.nEvents !== events) {
      cache = { processes, nEvents: events, tree: buildTree(processes), restarts: restartEvents(events) };
    }
    const { tree, restarts } = cache;
    setRuntime(tree.rt);

    let t0 = now();
    const snap = snapshot(tree.app);
    const snapshotMs = now() - t0;

    t0 = now();
    const drawn = drawTree(snap.root, "bench");
    const treeDrawMs = now() - t0;
    if (!drawn.svg.startsWith("<svg") || !/flowchart|graph/.test(drawn.mermaid)) throw new Error("drawTree did not produce an SVG and a Mermaid flowchart");

    t0 = now();
    const diagram = w.treeDiagram(tree.app);
    const treeWidgetMs = now() - t0;
    const b = diagram.bundle;
    if (!b["image/svg+xml"] || !b["text/vnd.mermaid"] || !b["image/png"]) throw new Error("treeDiagram's bundle lacks SVG, Mermaid or PNG");

    // Cold: a fresh Vega renderer thread, as for the first chart of a kernel.
    await stopVegaRenderer();
    t0 = now();
    const cold = w.restartsChart(restarts.events, { limits: restarts.limits });
    const chartColdMs = now() - t0;
    t0 = now();
    const chart = w.restartsChart(restarts.events, { limits: restarts.limits });
    const chartSvgMs = now() - t0;
    if (!String(chart.bundle["image/svg+xml"]).includes("<svg") || !cold.bundle["application/vnd.vegalite.v5+json"]) throw new Error("restartsChart did not render an SVG");

    return {
      processes,
      events,
      snapshot_ms: snapshotMs,
      tree_draw_ms: treeDrawMs,
      tree_widget_ms: treeWidgetMs,
      mermaid_chars: drawn.mermaid.length,
      svg_chars: drawn.svg.length,
      chart_cold_ms: chartColdMs,
      chart_svg_ms: chartSvgMs,
      chart_svg_chars: String(chart.bundle["image/svg+xml"]).length,
    };
  },
});
