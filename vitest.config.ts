import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    // Generous for beforeAll hooks that start whole bots and browsers on a loaded 2-core machine.
    hookTimeout: 600_000,
    pool: 'forks',
    // Two cores: run two files at a time so heavier suites (browser, model training) do not starve each other.
    maxWorkers: 2,
  },
});
