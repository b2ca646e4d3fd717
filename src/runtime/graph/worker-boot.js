// Entry of the executor worker thread. Workers do not inherit the TypeScript loader the parent runs under (neither
// `--import tsx` nor tsx's register()), so this plain module registers it, then loads the worker itself.
import { register } from 'tsx/esm/api';

register();
await import('./executor-worker.ts');
