// Screenshots the editor with a workflow loaded, for docs and for eyeballing the UI:
//   node --import tsx scripts/screenshot-editor.ts [out.png] [--workflow NAME|PATH] [--run] [--url http://127.0.0.1:8188]
// Starts the fake ComfyUI-compatible server (test/browser/fake-server.ts) unless --url (or INSTRUCTBOOTH_URL) names
// a running server. --workflow takes an example name served by /api/workflows or a path to a .json file; --run queues
// the workflow and waits for it to finish before the shot. Needs Chromium at /usr/bin/chromium.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensureWebBuilt, hasChromium, launchBrowser, openEditor, startTarget, CHROMIUM_PATH } from '../test/browser/harness.js';

function parseArgs(argv: string[]) {
  const out = { path: 'test-artifacts/editor.png', workflow: 'instructbooth.json', run: false, url: process.env.INSTRUCTBOOTH_URL };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--workflow') out.workflow = argv[++i];
    else if (a === '--run') out.run = true;
    else if (a === '--url') out.url = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log('usage: screenshot-editor.ts [out.png] [--workflow NAME|PATH] [--run] [--url URL]');
      process.exit(0);
    } else out.path = a;
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
if (!hasChromium()) {
  console.error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium`);
  process.exit(1);
}
if (args.url) process.env.INSTRUCTBOOTH_URL = args.url;
ensureWebBuilt();
const target = await startTarget();
const browser = await launchBrowser();
try {
  const page = await openEditor(browser.context, target.url);
  const isFile = /[/\\]/.test(args.workflow) || !/^[\w.-]+$/.test(args.workflow);
  if (isFile) {
    const text = readFileSync(resolve(args.workflow), 'utf8');
    await page.evaluate(([t, name]) => (window as any).instructbooth.loadWorkflow(JSON.parse(t), name), [text, args.workflow]);
  } else {
    await page.evaluate((name) => (window as any).instructbooth.loadExample(name), args.workflow);
  }
  await page.waitForFunction(() => (window as any).instructbooth.graph.nodes.length > 0, null, { timeout: 10_000 });
  if (args.run) {
    const before = await page.locator('.history-item').count();
    await page.click('#queue-button');
    // Done when the history has one more entry and nothing runs.
    await page.waitForFunction((n) => document.querySelectorAll('.history-item').length > n && !(window as any).instructbooth.live.runningNode, before, { timeout: 600_000 });
  }
  await page.waitForTimeout(300);
  const out = resolve(args.path);
  await page.screenshot({ path: out });
  console.log(out);
} finally {
  await browser.close();
  await target.close();
}
