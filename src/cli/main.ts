// `instructbooth` entry point: wires the real process to the commands.
import { main } from './commands.js';

let interrupt: (() => void) | undefined;
let interrupts = 0;
process.on('SIGINT', () => {
  // First Ctrl-C cancels the run cleanly; a second one quits at once.
  if (++interrupts > 1 || !interrupt) process.exit(130);
  process.stderr.write('\ncancelling (Ctrl-C again to quit now)...\n');
  interrupt();
});

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  onInterrupt: (h) => (interrupt = h),
  cwd: process.cwd(),
});
process.exitCode = code;
