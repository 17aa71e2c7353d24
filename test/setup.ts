// Loaded before every test file (vitest.config.ts): the driver and mongoose load as in the app.
import '../src/db/lowered-spread.js';
