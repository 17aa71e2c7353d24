import { loadIntentModel, type IntentModel } from '../../src/nlu/index.js';

let model: Promise<IntentModel> | undefined;

/**
 * The real shared intent model over the shipped corpora, trained once and cached on disk (.cache/nlu),
 * so every test file of a run, and every later run, loads the same model.
 */
export function sharedIntentModel(): Promise<IntentModel> {
  model ??= loadIntentModel();
  return model;
}
