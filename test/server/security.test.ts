// Guards: ComfyUI's origin check (HTTP and WebSocket), the token a non-loopback server needs, and the rule that
// refuses to listen beyond loopback without one. Servers here listen on 127.0.0.1 only; the token middleware is
// exercised by configuring a token, not by binding a public address.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { main } from '../../src/cli/commands.js';
import { isLoopbackHost, planListen } from '../../src/server/options.js';
import { hostProblem, originProblem } from '../../src/server/security.js';
import { WsClient, getJson, historyOf, postJson, startServer, tempDir, testRegistry, until } from './helpers.js';

function request(url: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('origin check: loopback Host with another Origin is 403 (HTTP and WebSocket)', async () => {
  assert.equal(originProblem('127.0.0.1:8188', 'http://127.0.0.1:8188'), undefined);
  assert.equal(originProblem('localhost:8188', 'http://localhost'), undefined);
  assert.equal(originProblem('127.0.0.1:8188', undefined), undefined);
  assert.equal(originProblem('example.com:8188', 'http://evil.com'), undefined, 'only loopback hosts are checked, as ComfyUI');
  assert.ok(originProblem('127.0.0.1:8188', 'http://evil.com'));
  assert.ok(originProblem('localhost:8188', 'http://localhost:5173'));
  assert.ok(originProblem('[::1]:8188', 'http://evil.com'));
  assert.ok(originProblem('127.0.0.1:8188', 'null'));

  const t = await startServer();
  try {
    const host = new URL(t.url).host;
    const bad = await request(`${t.url}/prompt`, { Origin: 'http://evil.example', 'Content-Type': 'application/json' }, 'POST', JSON.stringify({ prompt: { 1: { class_type: 'Picky', inputs: { word: 'y' } } } }));
    assert.equal(bad.status, 403);
    assert.equal(bad.body.error.type, 'forbidden_origin');
    assert.deepEqual((await getJson(`${t.url}/queue`)).body.queue_pending, [], 'nothing was queued');
    const good = await request(`${t.url}/queue`, { Origin: `http://${host}` });
    assert.equal(good.status, 200);
    await assert.rejects(WsClient.connect(`${t.wsUrl}?clientId=x`, { headers: { Origin: 'http://evil.example' } }), /403/);
    const ws = await WsClient.connect(`${t.wsUrl}?clientId=x`, { headers: { Origin: `http://${host}` } });
    ws.close();
  } finally {
    await t.close();
  }
});

test('token: API and WebSocket need it (Bearer or ?token=), the editor page does not', async () => {
  const t = await startServer({ token: 'sekrit' });
  try {
    const none = await getJson(`${t.url}/queue`);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.type, 'unauthorized');
    assert.equal((await getJson(`${t.url}/api/queue`, { Authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await getJson(`${t.url}/api/queue`, { Authorization: 'Bearer sekrit' })).status, 200);
    assert.equal((await getJson(`${t.url}/object_info?token=sekrit`)).status, 200);
    assert.equal((await postJson(`${t.url}/prompt`, { prompt: { 1: { class_type: 'Picky', inputs: { word: 'y' } } } })).status, 401);
    const ok = await postJson(`${t.url}/prompt`, { prompt: { 1: { class_type: 'Picky', inputs: { word: 'y' } } } }, { Authorization: 'Bearer sekrit' });
    assert.equal(ok.status, 200);
    assert.equal((await fetch(`${t.url}/`)).status, 200);
    await assert.rejects(WsClient.connect(`${t.wsUrl}?clientId=x`), /401/);
    const ws = await WsClient.connect(`${t.wsUrl}?clientId=x&token=sekrit`);
    ws.close();
    const ws2 = await WsClient.connect(`${t.wsUrl}?clientId=y`, { headers: { Authorization: 'Bearer sekrit' } });
    ws2.close();
  } finally {
    await t.close();
  }
});

test('listening beyond loopback: refused without a token, a loud warning with --insecure', async () => {
  for (const h of ['127.0.0.1', '127.9.9.9', 'localhost', '::1', '[::1]']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '']) assert.ok(!isLoopbackHost(h), h);
  assert.deepEqual(planListen('127.0.0.1', undefined, false), {});
  assert.match(planListen('0.0.0.0', undefined, false).refuse!, /--token/);
  assert.deepEqual(planListen('0.0.0.0', 'secret', false), {});
  assert.match(planListen('0.0.0.0', undefined, true).warning!, /WARNING.*NO authentication/);

  // The command refuses before binding anything.
  const err: string[] = [];
  const io = { stdout: { write: () => undefined }, stderr: { write: (s: string) => void err.push(s) }, onInterrupt: () => undefined, cwd: tempDir(), registry: testRegistry() };
  assert.equal(await main(['serve', '--host', '0.0.0.0'], io), 2);
  assert.match(err.join(''), /refusing to listen on 0\.0\.0\.0 without a token/);
  assert.equal(await main(['serve', '--port', 'abc'], io), 2);
});

test('`instructbooth serve` runs the server in process until interrupted', async () => {
  const out: string[] = [];
  let stop: (() => void) | undefined;
  const dir = tempDir();
  const io = { stdout: { write: (s: string) => void out.push(s) }, stderr: { write: () => undefined }, onInterrupt: (h: () => void) => (stop = h), cwd: dir, registry: testRegistry() };
  const exit = main(['serve', '--port', '0', '--data', '.'], io);
  const line = await until(() => out.find((l) => l.includes('server at')) ?? '');
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1];
  const id = (await postJson(`${url}/prompt`, { prompt: { 1: { class_type: 'Picky', inputs: { word: 'y' } } } })).body.prompt_id;
  await historyOf(url, id);
  stop!();
  assert.equal(await exit, 0);
});

test('DNS rebinding: on loopback without a token, a Host that is not a loopback name (or an allowed one) is 403', async () => {
  const allowed = new Set(['box.lan']);
  for (const h of ['127.0.0.1:8188', 'localhost:8188', 'localhost', '[::1]:8188', '127.0.0.1', 'LOCALHOST:1', 'box.lan:8188', 'Box.Lan'])
    assert.equal(hostProblem(h, allowed), undefined, h);
  for (const h of ['evil.example:8188', 'evil.example', '192.168.1.5:8188', 'box.lan.evil.example', 'localhost.evil.example:8188', '[::2]:8188'])
    assert.match(hostProblem(h, allowed) ?? '', /--allow-host/, h);
  // An allowed name gets the origin check as loopback names do.
  assert.ok(originProblem('box.lan:8188', 'http://evil.example', allowed));
  assert.equal(originProblem('box.lan:8188', 'http://box.lan:8188', allowed), undefined);

  const prompt = JSON.stringify({ prompt: { 1: { class_type: 'Picky', inputs: { word: 'y' } } } });
  const t = await startServer();
  try {
    const port = new URL(t.url).port;
    const evil = { Host: `evil.example:${port}` };
    const post = await request(`${t.url}/prompt`, { ...evil, 'Content-Type': 'application/json' }, 'POST', prompt);
    assert.equal(post.status, 403);
    assert.equal(post.body.error.type, 'forbidden_host');
    assert.match(post.body.error.message, /--allow-host evil\.example/);
    assert.equal((await request(`${t.url}/history`, evil)).status, 403);
    assert.equal((await request(`${t.url}/api/queue`, evil)).status, 403);
    assert.equal((await request(`${t.url}/`, evil)).status, 403);
    await assert.rejects(WsClient.connect(`${t.wsUrl}?clientId=x`, { headers: evil }), /403/);
    assert.deepEqual((await getJson(`${t.url}/queue`)).body.queue_pending, [], 'nothing was queued');
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) assert.equal((await request(`${t.url}/history`, { Host: host })).status, 200, host);
    const ws = await WsClient.connect(`${t.wsUrl}?clientId=x`, { headers: { Host: `localhost:${port}` } });
    ws.close();
  } finally {
    await t.close();
  }

  // Allowed by name: served.
  const a = await startServer({ allowHosts: ['evil.example'] });
  try {
    const port = new URL(a.url).port;
    assert.equal((await request(`${a.url}/history`, { Host: `evil.example:${port}` })).status, 200);
    assert.equal((await request(`${a.url}/history`, { Host: `other.example:${port}` })).status, 403);
    const ws = await WsClient.connect(`${a.wsUrl}?clientId=x`, { headers: { Host: `evil.example:${port}` } });
    ws.close();
  } finally {
    await a.close();
  }

  // With a token the token guards (a rebinding page cannot send it): any Host.
  const k = await startServer({ token: 'sekrit' });
  try {
    const port = new URL(k.url).port;
    assert.equal((await request(`${k.url}/history`, { Host: `evil.example:${port}`, Authorization: 'Bearer sekrit' })).status, 200);
  } finally {
    await k.close();
  }
});

test('--allow-host: repeatable and comma-separated, for `instructbooth serve` and `npm start`', async () => {
  const out: string[] = [];
  let stop: (() => void) | undefined;
  const io = { stdout: { write: (s: string) => void out.push(s) }, stderr: { write: () => undefined }, onInterrupt: (h: () => void) => (stop = h), cwd: tempDir(), registry: testRegistry() };
  const exit = main(['serve', '--port', '0', '--allow-host', 'one.example,two.example', '--allow-host', 'three.example'], io);
  const line = await until(() => out.find((l) => l.includes('server at')) ?? '');
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1];
  const port = new URL(url).port;
  for (const h of ['one.example', 'two.example', 'three.example']) assert.equal((await request(`${url}/history`, { Host: `${h}:${port}` })).status, 200, h);
  assert.equal((await request(`${url}/history`, { Host: `four.example:${port}` })).status, 403);
  stop!();
  assert.equal(await exit, 0);
});
