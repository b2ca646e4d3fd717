// The SQLite store on its own: history order and cap, queue rows surviving a reopen.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { historyEntry } from '../../src/server/history-entry.js';
import { type Job, queueItem } from '../../src/server/job.js';
import { JobStore } from '../../src/server/store.js';
import { tempDir } from './helpers.js';

const job = (id: string, number: number, seq: number): Job => ({ id, number, seq, prompt: {}, extraData: { create_time: seq }, outputs: ['1'], runPrompt: {} });

test('history keeps the newest entries up to its cap, oldest first; a re-run id moves to the end', () => {
  const file = path.join(tempDir(), 'user', 'db.sqlite');
  const store = new JobStore(file, 3);
  for (let i = 0; i < 5; i++) {
    const j = job(`p${i}`, i, i);
    store.addJob(j);
    store.finish(j.id, historyEntry(queueItem(j), {}, 'success', []), undefined);
  }
  assert.equal(store.historySize(), 3);
  assert.deepEqual(store.historyPage(0, -1).map(([id]) => id), ['p2', 'p3', 'p4']);
  const again = job('p2', 9, 9);
  store.addJob(again);
  store.finish('p2', historyEntry(queueItem(again), {}, 'error', []), { '1': [{ step: 1, values: { loss: 1 } }] });
  assert.deepEqual(store.historyPage(0, -1).map(([id]) => id), ['p3', 'p4', 'p2']);
  assert.deepEqual(store.historyEntry('p2')!.metrics, { '1': [{ step: 1, values: { loss: 1 } }] });
  assert.deepEqual(store.historySummaries(new Set(['failed'])).map((s) => s.id), ['p2']);

  // Queue rows: pending and running survive a reopen; numbers keep counting up.
  store.addJob(job('q1', 5, 10));
  store.addJob(job('q2', 1, 11));
  store.markRunning('q1', 123);
  store.saveProgress('q1', '4', ['3'], { '3': { text: ['x'] } }, [['execution_start', { prompt_id: 'q1', timestamp: 123 }]]);
  const n = store.takeNumber();
  store.close();
  const reopened = new JobStore(file, 3);
  const { pending, cutOff } = reopened.loadQueue();
  assert.deepEqual(pending.map((j) => j.id), ['q2']);
  assert.equal(cutOff.length, 1);
  assert.deepEqual({ ...cutOff[0], job: cutOff[0].job.id }, {
    job: 'q1', startedAt: 123, currentNode: '4', executed: ['3'], outputs: { '3': { text: ['x'] } }, messages: [['execution_start', { prompt_id: 'q1', timestamp: 123 }]],
  });
  assert.ok(reopened.takeNumber() > n);
  reopened.close();
});
