#!/usr/bin/env node
/**
 * Profiles one runtime workload of the bench, to find out why a goal is missed.
 *
 *   node --expose-gc bench/profile.mjs spawn 100000        CPU profile: self time per function
 *   node --expose-gc bench/profile.mjs memory 100000 --heap heap snapshot: retained bytes per object type
 *   node --expose-gc bench/profile.mjs spawn 100000 --alloc allocation sampling: bytes allocated per function
 *   options: --shared (spawn: one generator function for all), --b 100 (restart batch), --top 25, --keep DIR (keep the .cpuprofile / .heapsnapshot there)
 *
 * The workload runs once at a tenth of the size to warm up, then once under the V8 profiler (through
 * node:inspector, so only the measured run is in the profile). Set OTP_LAB_DIST=file:///path/to/dist/ to
 * profile another build (for instance a patched copy of runtime/).
 */
import { Session } from "node:inspector/promises";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import { handlers } from "./workers/runtime-worker.mjs";

const args = process.argv.slice(2);
const op = args[0];
const n = Number(args[1] ?? 100_000);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] ?? true : dflt;
};
const heap = args.includes("--heap");
const alloc = args.includes("--alloc");
const top = Number(flag("top", 25));
const keep = flag("keep", null);
if (!handlers[op]) {
  console.error(`usage: node --expose-gc bench/profile.mjs <${Object.keys(handlers).join("|")}> [n] [--heap]`);
  process.exit(2);
}
const req = { op, n, b: Number(flag("b", 100)), shared: args.includes("--shared") };
const dir = keep ? path.resolve(keep) : mkdtempSync(path.join(os.tmpdir(), "otp-lab-profile-"));

await handlers[op]({ ...req, n: Math.max(1, Math.round(n / 10)) });

if (heap) {
  await heapProfile();
} else if (alloc) {
  const session = new Session();
  session.connect();
  // Garbage counts too: what a workload allocates is what the collector has to clear away.
  await session.post("HeapProfiler.startSampling", { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const result = await handlers[op](req);
  const { profile } = await session.post("HeapProfiler.stopSampling");
  console.log(`${op} ${JSON.stringify(result)}\n`);
  summariseAlloc(profile);
} else {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.start");
  const result = await handlers[op](req);
  const { profile } = await session.post("Profiler.stop");
  const file = path.join(dir, `${op}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  console.log(`${op} ${JSON.stringify(result)}\nprofile: ${file} (open in Chrome DevTools › Performance)\n`);
  summariseCpu(profile);
}

function summariseCpu(profile) {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const parent = new Map();
  for (const x of profile.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const selfUs = new Map();
  const totalUs = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const key = (x) => `${x.callFrame.functionName || "(anonymous)"}  ${short(x.callFrame.url)}:${x.callFrame.lineNumber + 1}`;
    selfUs.set(key(byId.get(id)), (selfUs.get(key(byId.get(id))) ?? 0) + dt);
    // Inclusive time: count each function once per sample, however deep it recurses.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur));
      if (seen.has(k)) continue;
      seen.add(k);
      totalUs.set(k, (totalUs.get(k) ?? 0) + dt);
    }
  });
  const table = (title, m) => {
    console.log(`${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
    }
    console.log();
  };
  table("self time", selfUs);
  table("inclusive time, runtime code only", new Map([...totalUs].filter(([k]) => /\s(runtime|widgets|kernel)\//.test(k))));
}

/** Sampled bytes allocated per allocating function (self), scaled per unit of work. */
function summariseAlloc(profile) {
  const bytes = new Map();
  let total = 0;
  const walk = (node) => {
    const self = node.selfSize ?? 0;
    if (self) {
      const f = node.callFrame;
      const k = `${f.functionName || "(anonymous)"}  ${short(f.url)}:${f.lineNumber + 1}`;
      bytes.set(k, (bytes.get(k) ?? 0) + self);
      total += self;
    }
    for (const c of node.children ?? []) walk(c);
  };
  walk(profile.head);
  console.log(`allocated (sampled) ${(total / 2 ** 20).toFixed(1)} MB, ${(total / n).toFixed(0)} bytes per unit of work (n=${n})`);
  for (const [k, b] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(b / n).toFixed(1).padStart(9)} B/unit ${((100 * b) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
}

function short(url) {
  if (!url) return "(native)";
  const m = /dist\/(.*)$/.exec(url);
  return m ? m[1] : url.replace(/^.*\//, "");
}

/** Builds the workload and snapshots the heap while its processes are alive (memory op only). */
async function heapProfile() {
  if (op !== "memory") throw new Error("--heap is for the memory workload");
  const { Runtime, setRuntime, spawn, receive, GenServer } = await import(`${process.env.OTP_LAB_DIST ?? new URL("../dist/", import.meta.url).href}runtime/index.js`);
  const rt = new Runtime({ clock: "virtual" });
  setRuntime(rt);
  const Idle = { init: (a) => ["ok", a] }; // one callbacks object, as in bench/workers/runtime-worker.mjs
  spawn(function* () {
    for (let i = 0; i < n; i++) yield* GenServer.startLink(Idle, null);
    yield* receive(() => false);
  });
  rt.settle();
  global.gc?.();
  const file = v8.writeHeapSnapshot(path.join(dir, `memory-${n}.heapsnapshot`));
  console.log(`heap snapshot: ${file}\n`);
  summariseHeap(JSON.parse(readFileSync(file, "utf8")));
  rt.reset();
}

/** Self size per (type, name), for object kinds with at least n/2 instances: what each process costs. */
function summariseHeap(snap) {
  const meta = snap.snapshot.meta;
  const nf = meta.node_fields;
  const types = meta.node_types[0];
  const iType = nf.indexOf("type");
  const iName = nf.indexOf("name");
  const iSize = nf.indexOf("self_size");
  const stride = nf.length;
  const groups = new Map();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + iType]];
    let name = snap.strings[nodes[i + iName]];
    if (type === "string" || type === "concatenated string" || type === "sliced string") name = "(strings)";
    else if (type === "number") name = "(heap numbers)";
    else if (name.length > 60) name = name.slice(0, 57) + "...";
    const k = `${type} ${name}`;
    const g = groups.get(k) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += nodes[i + iSize];
    groups.set(k, g);
  }
  const rows = [...groups].filter(([, g]) => g.count >= n / 2 || g.bytes >= n * 8).sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
  let sum = 0;
  console.log("   count      bytes  bytes/process  type name");
  for (const [k, g] of rows) {
    sum += g.bytes;
    console.log(`${String(g.count).padStart(8)} ${String(g.bytes).padStart(10)} ${(g.bytes / n).toFixed(1).padStart(13)}  ${k}`);
  }
  console.log(`\nthese rows: ${(sum / n).toFixed(0)} bytes per process`);
}
