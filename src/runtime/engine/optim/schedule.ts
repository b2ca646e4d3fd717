// Learning-rate schedules as pure functions of the optimizer step (0-based index of the step about to run), so a
// resumed run recomputes the same rate from the saved step. Shapes follow diffusers/transformers' LambdaLR
// schedules ("constant", "constant_with_warmup", "cosine"), including lr = 0 at step 0 when warming up.

/** step -> multiplier of the base learning rate */
export type LrLambda = (step: number) => number;

function checkCount(name: string, n: number, min: number): void {
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`schedule: ${name} must be an integer >= ${min}, got ${n}`);
}

const warm = (step: number, warmupSteps: number): number => step / Math.max(1, warmupSteps);

export function constant(): LrLambda {
  return () => 1;
}

/** Linear ramp from 0 over warmupSteps, then constant. */
export function linearWarmup(warmupSteps: number): LrLambda {
  checkCount('warmupSteps', warmupSteps, 0);
  return (step) => (step < warmupSteps ? warm(step, warmupSteps) : 1);
}

/**
 * Linear warmup, then half a cosine from 1 down to minLrRatio at totalSteps. Past totalSteps the rate stays at
 * minLrRatio (transformers' version would start rising again).
 */
export function cosine(totalSteps: number, warmupSteps = 0, minLrRatio = 0): LrLambda {
  checkCount('totalSteps', totalSteps, 1);
  checkCount('warmupSteps', warmupSteps, 0);
  if (!(minLrRatio >= 0 && minLrRatio <= 1)) throw new Error(`schedule: minLrRatio must be in [0, 1], got ${minLrRatio}`);
  return (step) => {
    if (step < warmupSteps) return warm(step, warmupSteps);
    const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    return minLrRatio + (1 - minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

export type ScheduleKind = 'constant' | 'linearWarmup' | 'cosine';

export interface ScheduleOptions {
  kind: ScheduleKind;
  baseLr: number;
  /** ignored by 'constant', as diffusers' "constant" ignores lr_warmup_steps */
  warmupSteps?: number;
  /** required by 'cosine' */
  totalSteps?: number;
  minLrRatio?: number;
}

export function makeSchedule({ kind, baseLr, warmupSteps = 0, totalSteps, minLrRatio = 0 }: ScheduleOptions): (step: number) => number {
  if (!(Number.isFinite(baseLr) && baseLr >= 0)) throw new Error(`schedule: baseLr must be a finite number >= 0, got ${baseLr}`);
  let f: LrLambda;
  switch (kind) {
    case 'constant': f = constant(); break;
    case 'linearWarmup': f = linearWarmup(warmupSteps); break;
    case 'cosine':
      if (totalSteps === undefined) throw new Error('schedule: cosine needs totalSteps');
      f = cosine(totalSteps, warmupSteps, minLrRatio);
      break;
    default: throw new Error(`schedule: unknown kind "${String(kind)}"`);
  }
  return (step) => {
    if (!(Number.isSafeInteger(step) && step >= 0)) throw new Error(`schedule: step must be an integer >= 0, got ${step}`);
    return baseLr * f(step);
  };
}
