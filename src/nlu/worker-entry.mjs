// Worker threads do not inherit a TypeScript loader from every host (vitest, plain node):
// register tsx here, then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./train-worker.ts');
