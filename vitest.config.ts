import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end files start real servers and child processes; two cores are plenty busy.
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
