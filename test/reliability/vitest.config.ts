import { defineConfig } from 'vitest/config';

/**
 * The reliability tests alone, without the global set-up that trains the intent model: they use a
 * stand-in model, so `npx vitest run -c test/reliability/vitest.config.ts` needs no training.
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
