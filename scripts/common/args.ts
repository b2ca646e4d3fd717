// Command-line options of the training scripts: `--flag` switches and `--key value` pairs, and numbers with a full
// and a `--quick` default.
export type Args = Record<string, string | boolean>;

export function parseArgs(argv: string[], switches: readonly string[]): Args {
  const o: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    if (switches.includes(key)) o[key] = true;
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`--${key} needs a value`);
      o[key] = v;
    }
  }
  return o;
}

/** `--key N` as a number >= 0, else the full run's default (or the quick one with --quick). */
export function numberOption(args: Args) {
  const quick = args.quick === true;
  return (key: string, full: number, small: number): number => {
    const v = args[key];
    if (v === undefined) return quick ? small : full;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${key} must be a number >= 0, got ${String(v)}`);
    return n;
  };
}
