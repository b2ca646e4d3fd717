// Entry of the execution process. It starts with no command-line flags (a parent under `node --test` or a debugger
// must not pass them on), so this plain module registers the TypeScript loader, then loads the host itself.
import { register } from 'tsx/esm/api';

register();
await import('./process-host.ts');
