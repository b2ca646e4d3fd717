// The decoder passes run beside the text encoder and the UNet, in a child process: they need only the VAE's encoder,
// fixed once stage 2 ends (the UNet's latents come from it), and one training here keeps about one of the machine's
// two cores busy, so the second core takes them. The child is the same command with --decoders-only.
import { spawn } from 'node:child_process';
import { log } from './io.js';

/** Starts the child; the promise settles when it ends (rejected unless it succeeded). */
export function startDecoderBranch(argv: string[]): Promise<void> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv, '--decoders-only'], { stdio: 'inherit' });
  log(`decoder passes: in a child process (pid ${child.pid}) beside the text encoder and UNet`);
  // The child must not outlive this process: stopping the command stops both, and rerunning it resumes both.
  const stop = () => child.kill();
  const interrupted = () => {
    child.kill();
    process.exit(130);
  };
  process.on('exit', stop);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  return new Promise((resolve, reject) =>
    child.on('exit', (code, signal) => {
      process.off('exit', stop);
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
      if (code === 0) {
        log(`decoder passes: the child ended after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        resolve();
      } else reject(new Error(`the decoder passes' child process ended with ${signal ?? `code ${code}`}; rerun the same command to resume`));
    }),
  );
}
