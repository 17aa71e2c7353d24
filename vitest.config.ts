import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Every test file runs on the driver as the app loads it (src/db/lowered-spread.ts).
    setupFiles: ['test/setup.ts'],
    // A hang guard, not a speed target: whole bots, browsers and child processes share 2 cores.
    testTimeout: 60_000,
    // Generous for beforeAll hooks that start whole bots and browsers on a loaded 2-core machine.
    hookTimeout: 600_000,
    pool: 'forks',
    // Two cores: run two files at a time so heavier suites (browser, model training) do not starve each other.
    maxWorkers: 2,
    // NLP.js's own logger (unused here) uses pino 7's deprecated prettyPrint: keep its warning out of
    // every test file's output, as npm start does. `npm test` starts vitest itself with the same flag,
    // for the intent model the global setup loads.
    execArgv: ['--disable-warning=PINODEP008'],
  },
});
