// The editor in headless Chromium against the REAL server (src/server, not fake-server.ts), started in process on a
// free loopback port with the real node registry (its nodes in a worker thread, as `serve` runs them), temp data
// folders and the repository's workflows/ as its examples: workflows/sample.json (LoadCheckpoint "embedded" -> Sample
// -> SaveImage) is loaded from the examples menu, queued, and runs for real on the embedded model. Progress and
// executed arrive over the WebSocket, the history shows success, and the saved images appear on the SaveImage node,
// served by /view. The screenshot goes to test-artifacts/browser/10-real-server-sample.png.
//
// "embedded" always resolves to <repo>/models/embedded (PACKAGE_ROOT), whatever the models folder: the test's own
// models folder is a temp dir. Skipped without Chromium, or before the embedded model exists (npm run train:world).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { BUILTIN_REGISTRY, createRegistry } from '../../src/nodes/index.js';
import { EMBEDDED_DIR } from '../../src/nodes/common/checkpoints.js';
import { type TestServer, getJson, startServer } from '../server/helpers.js';
import { DIST_DIR, REPO_ROOT } from './fake-server.js';
import { type Browser, NO_CHROMIUM, countEvents, ensureWebBuilt, inApp, launchBrowser, openEditor, screenshot, seenEvents, uncaughtErrors, waitInApp } from './harness.js';

const skip =
  NO_CHROMIUM ||
  (existsSync(join(EMBEDDED_DIR, 'unet')) ? false : `the embedded model is not built yet (${join(EMBEDDED_DIR, 'unet')} is missing; npm run train:world makes it)`);

/** Sampling 3 prompts x 4 images for 25 steps on a CPU another job may be using: minutes at worst. */
const RUN_TIMEOUT_MS = 600_000;

describe('editor in Chromium against the real server', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    if (skip) return;
    ensureWebBuilt();
    server = await startServer({ registry: createRegistry(), registryModule: BUILTIN_REGISTRY, workflowsDir: join(REPO_ROOT, 'workflows'), webRoot: DIST_DIR });
    browser = await launchBrowser();
    page = await openEditor(browser.context, server.url);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('runs workflows/sample.json from the examples menu on the embedded model: progress, success, the images on SaveImage', { skip, timeout: RUN_TIMEOUT_MS + 60_000 }, async () => {
    const names = await inApp(page, (app) => app.api.workflowNames());
    assert.ok(names.includes('sample.json'), `GET /api/workflows lists the repository's examples (got ${JSON.stringify(names)})`);
    await page.click('#examples-button');
    await page.click('[data-example="sample.json"]');
    await waitInApp(page, (app) => app.workflowName !== 'workflow' && app.graph.nodes.length > 0);
    const types = await inApp(page, (app) => [...app.graph.nodes].map((n: any) => `${n.id}:${n.type}`).sort());
    assert.deepEqual(types, ['3:LoadCheckpoint', '6:Sample', '7:SaveImage']);
    // Its two links came through (origin, slot, target, slot, type as the editor saves them).
    const links = await inApp(page, (app) => app.serialize().links.map((l: unknown[]) => l.slice(1)));
    assert.deepEqual(links, [[3, 0, 6, 0, 'MODEL'], [6, 0, 7, 0, 'IMAGE']], 'sample.json loads with its links: LoadCheckpoint -> Sample -> SaveImage');

    await countEvents(page);
    const before = await page.locator('.history-item').count();
    await page.click('#queue-button');
    // Finished (a new history item, nothing running), or refused (a toast says why).
    await page.waitForFunction(
      (n) =>
        (document.querySelectorAll('.history-item').length > n && !(window as any).instructbooth.live.runningNode) ||
        [...document.querySelectorAll('.toast')].some((t) => t.textContent?.includes('Prompt refused')),
      before,
      { timeout: RUN_TIMEOUT_MS },
    );
    const refused = await page.evaluate(() => [...document.querySelectorAll('.toast')].map((t) => t.textContent ?? '').find((t) => t.includes('Prompt refused')));
    assert.equal(refused, undefined, 'the server took the prompt');
    const status = await page.textContent('.history-item:first-child .badge');
    assert.equal(status, 'success', (await page.textContent('.history-item:first-child')) ?? undefined);
    const seen = await seenEvents(page);
    assert.ok(seen.progress > 0, 'progress events arrived');
    assert.ok(seen.executed > 0, 'executed events arrived');

    // The server's record: 3 prompts x 4 images saved by node 7.
    const history = (await getJson(`${server.url}/api/history`)).body;
    const entries = Object.values(history) as any[];
    assert.equal(entries.length, 1);
    assert.equal(entries[0].status.status_str, 'success');
    assert.equal(entries[0].outputs['7'].images.length, 12);
    assert.equal(entries[0].outputs['7'].images[0].type, 'output');

    // The output images on the SaveImage node, from /view, loaded.
    await waitInApp(page, (app) => (app.live.snapshot()['7']?.images ?? []).some((src: string) => src.includes('/api/view?')));
    await waitInApp(page, (app) => {
      const imgs = app.live.get(7)?.images ?? [];
      return imgs.length > 0 && imgs.every((i: HTMLImageElement) => i.complete && i.naturalWidth > 0);
    });
    const sizes = await inApp(page, (app) => app.live.get(7).images.map((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight]));
    assert.ok(sizes.length > 0 && sizes.every(([w, h]: number[]) => w > 0 && h > 0), JSON.stringify(sizes));
    assert.deepEqual(uncaughtErrors(page), []);
    await page.waitForTimeout(150);
    await screenshot(page, '10-real-server-sample');
  });
});
