// `npm run bench -- <name>`: runs one benchmark (or lists them).
const benches: Record<string, () => Promise<unknown>> = {
  'train-step': () => import('./train-step.js'),
  'load-checkpoint': () => import('./load-checkpoint.js'),
  'sd-unet': () => import('./sd-unet.js'),
  world: () => import('./world.js'),
  vae: () => import('./vae.js'),
  instructbooth: () => import('./instructbooth.js'),
  dreambooth: () => import('./dreambooth.js'),
  'pull-back': () => import('./pull-back.js'),
  'activity-words': () => import('./activity-words.js'),
  'word-swaps': () => import('./word-swaps.js'),
  'ddpo-epoch': () => import('./ddpo-epoch.js'),
  'sd-train-step': () => import('./sd-train-step.js'),
  gpu: () => import('./gpu.js'),
};

const name = process.argv[2];
if (!name || !benches[name]) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}>`);
  process.exit(name ? 1 : 0);
}
await benches[name]();
