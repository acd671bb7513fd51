/**
 * xstate v5's side of `npm run bench`: the same workloads as the runtime's, written as idiomatic xstate
 * actors (state machines from `createMachine`, production build).
 */
import { serve } from "../lib/host.mjs";
import { assign, createActor, createMachine, sendTo } from "xstate";

const now = () => performance.now();

/** The smallest actor that starts and stops: its initial state is final. */
const minimal = createMachine({ id: "minimal", initial: "done", states: { done: { type: "final" } } });

const pongMachine = createMachine({
  id: "pong",
  on: { ping: { actions: sendTo(({ event }) => event.from, { type: "pong" }) } },
});

const pingMachine = createMachine({
  id: "ping",
  context: ({ spawn, input }) => ({ left: input.n, pong: spawn(pongMachine) }),
  initial: "running",
  states: {
    running: {
      on: {
        pong: [
          { guard: ({ context }) => context.left === 0, target: "done" },
          {
            actions: [
              assign({ left: ({ context }) => context.left - 1 }),
              sendTo(({ context }) => context.pong, ({ self }) => ({ type: "ping", from: self })),
            ],
          },
        ],
      },
    },
    done: { type: "final" },
  },
});

function untilDone(actor) {
  if (actor.getSnapshot().status === "done") return Promise.resolve();
  return new Promise((resolve, reject) => actor.subscribe({ complete: resolve, error: reject }));
}

serve({
  async info() {
    const { createRequire } = await import("node:module");
    return { xstate: createRequire(import.meta.url)("xstate/package.json").version };
  },

  spawn({ n }) {
    const t0 = now();
    let done = 0;
    for (let i = 0; i < n; i++) {
      const a = createActor(minimal).start();
      if (a.getSnapshot().status === "done") done++;
    }
    const ms = now() - t0;
    if (done !== n) throw new Error(`${n - done} actors did not reach their final state`);
    return { ms, n };
  },

  async pingpong({ n }) {
    const actor = createActor(pingMachine, { input: { n } }).start();
    const t0 = now();
    actor.send({ type: "pong" }); // the first "pong" starts the rally
    await untilDone(actor);
    const ms = now() - t0;
    return { ms, n };
  },
});
