import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // The first test to need the intent model trains it (then it is cached in .cache/nlu).
    hookTimeout: 600_000,
    pool: 'forks',
    // Two cores: run two files at a time so heavier suites (browser, model training) do not starve each other.
    maxWorkers: 2,
  },
});
