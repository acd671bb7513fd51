import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The end-to-end suites start real kernels; two cores are all a machine has.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
