// `instructbooth` entry point: wires the real process to the commands. `serve` runs as `npm start` does (one shutdown
// path: SIGINT and SIGTERM stop the server gracefully); the other commands cancel a run on SIGINT or SIGTERM.
import { main } from './commands.js';

const argv = process.argv.slice(2);
if (argv[0] === 'serve') {
  const { serveProcess } = await import('../server/serve-process.js'); // loaded only to serve
  process.exitCode = await serveProcess(argv.slice(1));
} else {
  let interrupt: (() => void) | undefined;
  let interrupts = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      // The first signal cancels the run cleanly; a second one quits at once.
      if (++interrupts > 1 || !interrupt) process.exit(130);
      process.stderr.write(`\ncancelling (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to quit now)...\n`);
      interrupt();
    });

  process.exitCode = await main(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    onInterrupt: (h) => (interrupt = h),
    cwd: process.cwd(),
  });
}
