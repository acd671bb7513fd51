/**
 * The V8 flags the runtime is tuned for. The kernel's kernelspec starts Node with them, and `npm run bench`
 * runs every Node side (the runtime, xstate, the widgets, the kernel) with them, so the figures are the ones a
 * notebook gets. A program that imports the runtime directly can pass them to `node` too.
 *
 * A young generation of 32 MB semi-spaces from the start (V8's default starts at 1 MB and grows to 16 MB):
 * a runtime allocates its processes, messages and events in bursts that live until the scheduler next runs,
 * often more than 16 MB (100,000 processes spawned in one loop). With the default young generation those
 * survive two scavenges and are copied into the old generation, where only a full mark-compact frees them;
 * the collector then took 30-40% of a spawn-heavy loop, and the young generation grew only after several
 * such bursts, so a fresh kernel ran them 2-4x slower than a warm one. The cost is memory: each thread's
 * young generation uses up to 64 MB (two semi-spaces) once it has allocated that much.
 */
export const NODE_FLAGS: readonly string[] = ["--min-semi-space-size=32", "--max-semi-space-size=32"];
