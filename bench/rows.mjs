/**
 * What `npm run bench` measures: groups of workloads run on several sides, and the rows (figures, ratios and
 * goals from issue 6) computed from them. A group's `full` request is the real size; `quick` the smoke test's.
 *
 * Goals: `{ vs, min }` / `{ vs, max }` bound ours ÷ that peer; without `vs` they bound our own median.
 */

const perSecond = (v) => (v.n / v.ms) * 1000;
const microsEach = (v) => (v.ms / v.n) * 1000;

export const GROUPS = [
  {
    id: "spawn",
    sides: ["runtime", "beam"],
    full: { op: "spawn", n: 100_000 },
    quick: { op: "spawn", n: 2_000 },
    // Full-size warm-ups (both sides): V8 grows its young generation and tiers up the scheduler over the first
    // runs of this size; at a tenth, the first repetitions measured that start-up, not the runtime.
    warmup: (r) => r,
    reps: 5,
    budgetMs: 25_000,
    rows: [
      {
        id: "spawn",
        title: "spawn + exit of a minimal process ({n}), body inline: `spawn(function* () {})` / `spawn(fun() -> ok end)`",
        unit: "processes/s",
        better: "higher",
        ours: "runtime",
        metric: perSecond,
        goals: [{ vs: "beam", min: 1, text: "≥ 1x BEAM" }],
      },
      {
        // No goal: the ceiling of the row above. The BEAM column repeats its spawn + exit rate.
        id: "spawn-floor",
        title: "for reference, no runtime: make {n} generator closures and run each once (plain V8) / BEAM spawn + exit as above",
        unit: "closures/s",
        better: "higher",
        ours: "runtime",
        metric: (v) => (v.floorMs !== undefined ? (v.n / v.floorMs) * 1000 : perSecond(v)),
      },
    ],
  },
  {
    id: "spawn-shared",
    sides: ["runtime", "beam", "xstate"],
    full: { op: "spawn", n: 100_000, shared: true },
    quick: { op: "spawn", n: 2_000, shared: true },
    // The BEAM side spawns with spawn(M, F, A) (bench/run.mjs maps `shared` to its spawn_mfa); xstate actors
    // all come from one machine. Full-size warm-up, as above.
    warmup: (r) => r,
    reps: 5,
    budgetMs: 40_000,
    rows: [
      {
        id: "spawn-shared",
        title: "spawn + exit of a minimal process ({n}), one shared body: `spawn(minimal)` / `spawn(M, F, A)` / `createActor(machine)`",
        unit: "processes/s",
        better: "higher",
        ours: "runtime",
        metric: perSecond,
        goals: [
          { vs: "beam", min: 1, text: "≥ 1x BEAM" },
          { vs: "xstate", min: 2, text: "≥ 2x xstate" },
        ],
      },
    ],
  },
  {
    id: "memory",
    sides: ["runtime", "beam"],
    full: { op: "memory", n: 100_000 },
    quick: { op: "memory", n: 2_000 },
    reps: 3,
    budgetMs: 45_000,
    rows: [
      {
        id: "memory",
        title: "idle GenServer memory ({n} linked to one owner)",
        unit: "bytes/process",
        better: "lower",
        ours: "runtime",
        metric: (v) => v.bytes / v.n,
        goals: [{ max: 1000, text: "< 1,000 bytes" }],
      },
    ],
  },
  {
    id: "pingpong",
    sides: ["runtime", "beam", "xstate"],
    full: { op: "pingpong", n: 100_000 },
    quick: { op: "pingpong", n: 2_000 },
    warmup: (r) => r, // full size, as the spawn rows
    reps: 5,
    budgetMs: 45_000,
    rows: [
      {
        id: "pingpong",
        title: "message round trips, ping-pong ({n})",
        unit: "round trips/s",
        better: "higher",
        ours: "runtime",
        metric: perSecond,
        goals: [
          { vs: "beam", min: 1, text: "≥ 1x BEAM" },
          { vs: "xstate", min: 2, text: "≥ 2x xstate" },
        ],
      },
    ],
  },
  {
    id: "call",
    sides: ["runtime", "beam"],
    full: { op: "call", n: 50_000 },
    quick: { op: "call", n: 1_000 },
    warmup: (r) => r, // full size, as the spawn rows
    reps: 5,
    budgetMs: 30_000,
    rows: [
      {
        id: "call",
        title: "GenServer call latency ({n} calls)",
        unit: "µs/call",
        better: "lower",
        ours: "runtime",
        metric: microsEach,
        goals: [{ vs: "beam", max: 2, text: "≤ 2x BEAM" }],
      },
    ],
  },
  {
    id: "restart",
    sides: ["runtime", "beam"],
    full: { op: "restart", n: 10_000, b: 100 },
    quick: { op: "restart", n: 200, b: 100 },
    // A full-size warm-up: after a tenth, V8 was still tiering up the restart path (the first repetitions
    // ran 1.5-2x slower than the rest). Both sides get it.
    warmup: (r) => r,
    reps: 5,
    budgetMs: 30_000,
    rows: [
      {
        id: "restart",
        title: "one_for_one restart latency, kill → new child's init ran ({n})",
        unit: "µs/restart",
        better: "lower",
        ours: "runtime",
        metric: microsEach,
        goals: [{ vs: "beam", max: 2, text: "≤ 2x BEAM" }],
      },
    ],
  },
  {
    id: "dynsup",
    sides: ["runtime", "beam"],
    full: { op: "dynsup", n: 100_000 },
    quick: { op: "dynsup", n: 2_000 },
    reps: 3,
    budgetMs: 40_000,
    timeoutMs: 150_000,
    rows: [
      {
        id: "dynsup-start",
        title: "DynamicSupervisor: start {n} children one by one",
        unit: "ms",
        better: "lower",
        ours: "runtime",
        metric: (v) => v.start_ms,
        goals: [{ vs: "beam", max: 2, text: "≤ 2x BEAM" }],
      },
      {
        id: "dynsup-stop",
        title: "DynamicSupervisor: shut down with {n} children",
        unit: "ms",
        better: "lower",
        ours: "runtime",
        metric: (v) => v.stop_ms,
        goals: [{ vs: "beam", max: 2, text: "≤ 2x BEAM" }],
      },
    ],
  },
  {
    id: "kernel",
    sides: ["otp-lab", "tslab"],
    // 30 cells: a median of 10 moved by a third between runs on a busy 2-core machine.
    full: { op: "kernel", cells: 30, code: "1 + 1", newCells: 30 },
    quick: { op: "kernel", cells: 1, code: "1 + 1", newCells: 1 },
    reps: 3,
    budgetMs: 45_000,
    timeoutMs: 60_000,
    rows: [
      {
        id: "kernel-startup",
        title: "kernel start-up to first kernel_info_reply",
        unit: "ms",
        better: "lower",
        ours: "otp-lab",
        metric: (v) => v.startup_ms,
        goals: [{ vs: "tslab", max: 0.25, text: "≤ 0.25x tslab" }],
      },
      {
        id: "kernel-cell",
        title: "trivial cell round trip, the same cell again (`1 + 1`, median of {cells} after the first)",
        unit: "ms",
        better: "lower",
        ours: "otp-lab",
        metric: (v) => (v.reply && String(v.reply).includes("2") ? medianOf(v.cell_ms) : NaN),
        goals: [{ vs: "tslab", max: 0.25, text: "≤ 0.25x tslab" }],
      },
      {
        // The row above re-runs one cell; here every cell is new, so nothing cached by its text applies.
        id: "kernel-new-cell",
        title: "trivial cell round trip, a new cell each time (`2 + 1`, `3 + 1`, …, median of {newCells})",
        unit: "ms",
        better: "lower",
        ours: "otp-lab",
        metric: (v) => (Array.isArray(v.new_cell_ms) && v.new_cell_ms.length > 0 && String(v.new_cell_replies?.[0]).includes("3") ? medianOf(v.new_cell_ms) : NaN),
        goals: [{ vs: "tslab", max: 0.25, text: "≤ 0.25x tslab" }],
      },
      {
        // Sent as soon as kernel_info is answered (and iopub is live), as "Run All" does right after a start.
        id: "kernel-first-cell",
        title: "first cell after start-up (`1 + 1`, sent right after kernel_info_reply)",
        unit: "ms",
        better: "lower",
        ours: "otp-lab",
        metric: (v) => (v.reply && String(v.reply).includes("2") ? v.first_cell_ms : NaN),
        goals: [{ max: 150, text: "≤ 150 ms" }],
      },
      {
        // What a learner waits from starting the kernel to the first result (same repetition, summed).
        id: "kernel-startup-first-cell",
        title: "start-up + first cell (launch → kernel_info_reply, then the first cell's round trip)",
        unit: "ms",
        better: "lower",
        ours: "otp-lab",
        metric: (v) => (v.reply && String(v.reply).includes("2") ? v.startup_ms + v.first_cell_ms : NaN),
        goals: [{ vs: "tslab", max: 0.3, text: "≤ 0.3x tslab" }],
      },
    ],
  },
  {
    id: "widgets",
    sides: ["widgets"],
    full: { op: "widgets", processes: 10_000, events: 10_000 },
    quick: { op: "widgets", processes: 300, events: 300 },
    reps: 3,
    budgetMs: 40_000,
    rows: [
      {
        id: "widgets-tree",
        title: "{processes}-process tree → SVG + grouped Mermaid (drawTree)",
        unit: "ms",
        better: "lower",
        ours: "widgets",
        metric: (v) => v.tree_draw_ms,
        goals: [{ max: 300, text: "< 300 ms" }],
      },
      {
        id: "widgets-tree-bundle",
        title: "treeDiagram(sup) of that tree: whole bundle (snapshot, SVG, Mermaid, PNG)",
        unit: "ms",
        better: "lower",
        ours: "widgets",
        metric: (v) => v.tree_widget_ms,
        goals: [],
      },
      {
        id: "widgets-chart",
        title: "Vega-Lite restarts chart of {events} restart events → SVG (whole widget, warm)",
        unit: "ms",
        better: "lower",
        ours: "widgets",
        metric: (v) => v.chart_svg_ms,
        goals: [{ max: 1000, text: "< 1 s" }],
      },
      {
        id: "widgets-chart-cold",
        title: "the same chart, first one in a fresh process (loads Vega)",
        unit: "ms",
        better: "lower",
        ours: "widgets",
        metric: (v) => v.chart_cold_ms,
        goals: [],
      },
    ],
  },
];

GROUPS.push({
  id: "grader",
  sides: ["grader"],
  // The issue's measure: lesson 03's solved notebook, graded with the sandbox vs `otp-lab run` without it.
  full: { op: "grader", notebook: "notebooks/03-one-for-one.ipynb" },
  quick: { op: "grader", notebook: "notebooks/03-one-for-one.ipynb" },
  reps: 5,
  budgetMs: 90_000,
  timeoutMs: 300_000,
  rows: [
    {
      id: "grader-graded",
      title: "`otp-lab grade` of lesson 03's solved notebook (SES confinement + bubblewrap + cgroup)",
      unit: "ms",
      better: "lower",
      ours: "grader",
      metric: (v) => v.graded_ms,
      goals: [],
    },
    {
      id: "grader-run",
      title: "`otp-lab run` of the same notebook (no isolation)",
      unit: "ms",
      better: "lower",
      ours: "grader",
      metric: (v) => v.run_ms,
      goals: [],
    },
    {
      id: "grader-added",
      title: "time isolation adds per submission (grade − run, same repetition)",
      unit: "ms",
      better: "lower",
      ours: "grader",
      metric: (v) => v.added_ms,
      goals: [{ max: 500, text: "≤ 0.5 s" }],
    },
    {
      id: "grader-ratio",
      title: "grade ÷ run (same repetition)",
      unit: "x",
      better: "lower",
      ours: "grader",
      metric: (v) => v.graded_ms / v.run_ms,
      goals: [],
    },
  ],
});

// SLOW: about 6 minutes on 2 cores (one repetition grades 30 submissions twice, loops burning their 10 s).
GROUPS.push({
  id: "batch",
  sides: ["batch"],
  // The measure: 30 submissions of lesson 03, five each of solved, blank, half done, an endless loop
  // (--timeout 10), a kernel crash (out of memory) and invalid JSON, graded with -j 2 and -j 1 in the same
  // repetition; `otp-lab run` of the solved notebook is the reference for one submission's time.
  full: { op: "batch", notebook: "notebooks/03-one-for-one.ipynb", n: 30, jobs: 2, timeout: 10, memory: 1024 },
  quick: { op: "batch", notebook: "notebooks/03-one-for-one.ipynb", n: 6, jobs: 2, timeout: 5, memory: 1024 },
  reps: 1,
  // Room for a second repetition with --reps 2 (the order of -j 2 and -j 1 alternates between repetitions).
  budgetMs: 1_500_000,
  timeoutMs: 1_800_000,
  rows: [
    {
      id: "batch-parallel",
      title: "`otp-lab grade` of {n} submissions of lesson 03 (an equal mix: solved, blank, half, loop with --timeout {timeout}, crash, invalid JSON), -j {jobs}",
      unit: "ms",
      better: "lower",
      ours: "batch",
      metric: (v) => v.parallel_ms,
      goals: [],
    },
    {
      id: "batch-sequential",
      title: "the same {n} submissions, -j 1",
      unit: "ms",
      better: "lower",
      ours: "batch",
      metric: (v) => v.sequential_ms,
      goals: [],
    },
    {
      id: "batch-speedup",
      title: "-j {jobs} speed-up (-j 1 time ÷ -j {jobs} time, same repetition)",
      unit: "x",
      better: "higher",
      ours: "batch",
      metric: (v) => v.sequential_ms / v.parallel_ms,
      goals: [{ min: 1.7, text: "≥ 1.7x" }],
    },
    {
      id: "batch-share",
      title: "a normal submission's time in the -j {jobs} batch (median of solved, blank, half) ÷ `otp-lab run` of the solved notebook",
      unit: "x",
      better: "lower",
      ours: "batch",
      metric: (v) => v.normal_ms / v.run_ms,
      goals: [{ max: 1.5, text: "≤ 1.5x" }],
    },
    {
      id: "batch-cores",
      title: "cores the -j {jobs} batch kept busy (its CPU time ÷ its wall time; the machine's other work takes the rest)",
      unit: "cores",
      better: "higher",
      ours: "batch",
      metric: (v) => (v.parallel_cpu_ms !== undefined ? v.parallel_cpu_ms / v.parallel_ms : undefined),
      goals: [],
    },
    {
      id: "batch-cores-sequential",
      title: "cores the -j 1 batch kept busy",
      unit: "cores",
      better: "higher",
      ours: "batch",
      metric: (v) => (v.sequential_cpu_ms !== undefined ? v.sequential_cpu_ms / v.sequential_ms : undefined),
      goals: [],
    },
    {
      // What -j N can gain here at most: N kernels at once keep at most min(N, cores) cores busy, and one grading
      // already keeps the -j 1 figure busy (its TypeScript thread, V8's collector threads, the grader), so the
      // speed-up above is bounded by their ratio even before the kernels compete for caches and memory.
      id: "batch-ceiling",
      title: "the speed-up -j {jobs} could reach on this machine: min({jobs}, cores) ÷ cores the -j 1 batch kept busy",
      unit: "x",
      better: "higher",
      ours: "batch",
      metric: (v) => (v.sequential_cpu_ms !== undefined ? Math.min(v.jobs, v.cores) / (v.sequential_cpu_ms / v.sequential_ms) : undefined),
      goals: [],
    },
    {
      id: "batch-rate",
      title: "normal submissions graded per minute per core (-j {jobs})",
      unit: "/min/core",
      better: "higher",
      ours: "batch",
      metric: (v) => v.normal_per_min_per_core,
      goals: [],
    },
    {
      id: "batch-wrong",
      title: "submissions scored differently from what they earn (both batches; must be 0)",
      unit: "count",
      better: "lower",
      ours: "batch",
      metric: (v) => v.wrong,
      extra: (runs) => ({ detail: runs.flatMap((r) => r.wrong_detail ?? []), otherStatus: runs.flatMap((r) => r.other_status ?? []) }),
      goals: [{ max: 0, text: "0" }],
    },
  ],
});

function medianOf(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
