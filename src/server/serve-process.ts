// The server as a process, for both entry points (`instructbooth serve` and `npm start`): SIGINT and SIGTERM (what
// Ctrl-C, systemd and Docker send) stop it gracefully: the running job is interrupted and stored, queued jobs wait for
// the next start, the process exits 0. A second signal quits at once (130). A stray rejection in a request handler is
// logged instead of taking the server down.
import { serveCommand } from './serve-command.js';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export async function serveProcess(args: string[]): Promise<number> {
  let stop: (() => void) | undefined;
  let stopAsked = false;
  let signals = 0;
  const onSignal = () => {
    // First signal: graceful stop (at once, or as soon as the server is up); a second one quits now.
    if (++signals > 1) process.exit(130);
    stopAsked = true;
    stop?.();
  };
  const onRejection = (e: unknown) => process.stderr.write(`[instructbooth] unhandled rejection: ${(e as Error)?.stack ?? e}\n`);
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  process.on('unhandledRejection', onRejection);
  try {
    return await serveCommand(args, {
      stdout: process.stdout,
      stderr: process.stderr,
      onInterrupt: (h) => {
        stop = h;
        if (stopAsked) h();
      },
      cwd: process.cwd(),
    });
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    process.off('unhandledRejection', onRejection);
  }
}
