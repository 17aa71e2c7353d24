import { loadIntentModel } from '../src/nlu/index.js';

/**
 * Trains the shared intent model once, before the test workers start, so that parallel test files load
 * it from the on-disk cache instead of each training their own copy.
 */
export default async function setup(): Promise<void> {
  await loadIntentModel();
}
