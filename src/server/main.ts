// `npm start`: the server with the real process (argv, Ctrl-C and SIGTERM stop it gracefully).
import { serveCommand } from './serve-command.js';

let stop: (() => void) | undefined;
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    // First signal: graceful stop; a second one quits at once.
    if (++signals > 1 || !stop) process.exit(130);
    stop();
  });
// A stray rejection in a request must not take the server down; it is logged instead.
process.on('unhandledRejection', (e) => process.stderr.write(`[instructbooth] unhandled rejection: ${(e as Error)?.stack ?? e}\n`));

process.exitCode = await serveCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  onInterrupt: (h) => (stop = h),
  cwd: process.cwd(),
});
