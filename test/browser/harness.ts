// Shared by the browser tests and scripts/screenshot-editor.ts: building web/dist when it is missing or stale,
// launching Debian's Chromium through playwright-core with a fresh profile, and the server the editor talks to
// (the fake one, or a real one named by INSTRUCTBOOTH_URL).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { type Behavior, DIST_DIR, REPO_ROOT, type FakeServer, startFakeServer } from './fake-server.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts', 'browser');

export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Why the browser tests cannot run here, or false. Each test gets it as its `skip`, so that a machine without Chromium
 * reports them as skipped, with this reason, rather than as a suite that ran nothing. */
export const NO_CHROMIUM: string | false = hasChromium() ? false : `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return newest;
}

/** Builds web/dist when it is missing or older than its sources (so tests never run a stale editor): web/src, and the
 * shared modules in src/runtime/graph that the editor bundles. */
export function ensureWebBuilt(): void {
  const index = join(DIST_DIR, 'index.html');
  const sources = [join(REPO_ROOT, 'web', 'src'), join(REPO_ROOT, 'web', 'index.html'), join(REPO_ROOT, 'src', 'runtime', 'graph')];
  const stale = !existsSync(index) || sources.some((s) => existsSync(s) && (statSync(s).isDirectory() ? newestMtime(s) : statSync(s).mtimeMs) > statSync(index).mtimeMs);
  if (!stale) return;
  const r = spawnSync('npm', ['run', '--silent', 'build:web'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`npm run build:web failed:\n${r.stdout}\n${r.stderr}`);
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile; nothing reaches the network but the test server. */
export async function launchBrowser(viewport = { width: 1600, height: 900 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'instructbooth-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport,
    deviceScaleFactor: 1,
    acceptDownloads: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface Target {
  url: string;
  /** Present when the editor talks to the fake server (whose knobs some tests need). */
  fake?: FakeServer;
  close(): Promise<void>;
}

/** The server under test: INSTRUCTBOOTH_URL when set (a real server), else a fresh fake one. */
export async function startTarget(behavior?: Partial<Behavior>): Promise<Target> {
  const external = process.env.INSTRUCTBOOTH_URL;
  if (external) return { url: external.replace(/\/$/, ''), close: async () => {} };
  const fake = await startFakeServer({ behavior });
  return { url: fake.url, fake, close: () => fake.close() };
}

/** Opens the editor and waits until it has read /object_info and connected its socket. */
export async function openEditor(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  uncaught.set(page, errors);
  await page.goto(url);
  await page.waitForSelector('body.ready', { timeout: 15_000 });
  await page.waitForSelector('#status.connected', { timeout: 10_000 });
  return page;
}

const uncaught = new WeakMap<Page, string[]>();

/** Uncaught exceptions the editor's page has thrown so far. */
export function uncaughtErrors(page: Page): string[] {
  return uncaught.get(page) ?? [];
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Client coordinates of a point in graph space. */
export async function toScreen(page: Page, graphPos: [number, number]): Promise<{ x: number; y: number }> {
  return page.evaluate(([gx, gy]) => {
    const app = (window as unknown as { instructbooth: { canvas: { canvas: HTMLCanvasElement; ds: { scale: number; offset: [number, number] } } } }).instructbooth;
    const rect = app.canvas.canvas.getBoundingClientRect();
    const { scale, offset } = app.canvas.ds;
    return { x: rect.left + (gx + offset[0]) * scale, y: rect.top + (gy + offset[1]) * scale };
  }, graphPos);
}

/** Evaluates `fn` against window.instructbooth (the Editor) in the page. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function inApp<T, A = undefined>(page: Page, fn: (app: any, arg: A) => T, arg?: A): Promise<T> {
  return page.evaluate(([src, a]) => new Function('app', 'arg', `return (${src})(app, arg)`)((window as any).instructbooth, a), [fn.toString(), arg] as const) as Promise<T>;
}

/** Waits until `fn(window.instructbooth)` is truthy. */
export function waitInApp(page: Page, fn: (app: any) => unknown, timeout = 10_000) {
  return page.waitForFunction((src) => new Function('app', `return (${src})(app)`)((window as any).instructbooth), fn.toString(), { timeout });
}

/** Starts counting the editor's progress and executed WebSocket events; read them with `seenEvents`. */
export function countEvents(page: Page): Promise<void> {
  return inApp(page, (app) => {
    const w = window as any;
    w.__seen = { progress: 0, executed: 0 };
    app.socket.on('progress', () => w.__seen.progress++);
    app.socket.on('executed', () => w.__seen.executed++);
  });
}

export function seenEvents(page: Page): Promise<{ progress: number; executed: number }> {
  return page.evaluate(() => (window as any).__seen) as Promise<{ progress: number; executed: number }>;
}
