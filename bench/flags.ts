// The benches' `--name value` options (after `npm run bench -- NAME`).
const args = process.argv.slice(3);

/** The value after `--name`, or undefined when it is not given. */
export function flag(name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Whether the switch `--name` is given. */
export const hasSwitch = (name: string): boolean => args.includes(`--${name}`);
