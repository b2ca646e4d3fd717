// Turns the server's execution messages into what the editor shows: the running node, progress bars, preview and
// output images on nodes, training charts, errors on the failing node, and a fresh queue/history panel.
import type { LGraph, LGraphNode } from '@comfyorg/litegraph';
import type { ApiClient } from './api.js';
import type { ChartPanel } from './chart-panel.js';
import type { LiveState } from './live.js';
import type { QueuePanel } from './queue-panel.js';
import { toast } from './toast.js';
import type { ImageRef } from './protocol.js';
import { ensurePreviewWidget } from './widgets.js';
import type { ExecutionSocket } from './ws.js';

export interface ExecutionView {
  graph: LGraph;
  redraw(): void;
  setQueueRemaining(n: number): void;
  setRunning(running: boolean): void;
}

export function bindExecution(socket: ExecutionSocket, api: ApiClient, live: LiveState, charts: ChartPanel, queuePanel: QueuePanel, view: ExecutionView): void {
  const node = (id: string | null | undefined): LGraphNode | undefined => (id == null ? undefined : (view.graph.getNodeById(id) ?? undefined));
  let objectUrls: string[] = [];

  const setImages = (id: string, urls: string[]) => {
    const n = node(id);
    const state = live.ensure(id);
    state.images = urls.map((src) => {
      const img = new Image();
      img.onload = () => view.redraw();
      img.src = src;
      return img;
    });
    if (n) ensurePreviewWidget(n, { get images() { return live.get(id)?.images ?? []; } });
    view.redraw();
  };

  const finishRun = () => {
    if (live.runningNode) {
      const s = live.get(live.runningNode);
      if (s) s.progress = undefined;
    }
    live.runningNode = null;
    view.setRunning(false);
    view.redraw();
    void queuePanel.refresh();
  };

  socket.on('status', (d) => {
    view.setQueueRemaining(d?.status?.exec_info?.queue_remaining ?? 0);
    void queuePanel.refresh();
  });

  socket.on('execution_start', (d) => {
    live.resetRun();
    live.promptId = d.prompt_id;
    for (const n of view.graph.nodes) n.has_errors = false;
    view.setRunning(true);
    view.redraw();
    void queuePanel.refresh();
  });

  socket.on('executing', (d) => {
    const previous = live.runningNode;
    if (previous) {
      const s = live.get(previous);
      if (s) s.progress = undefined;
    }
    if (d.node == null) {
      finishRun();
      return;
    }
    live.runningNode = String(d.node);
    view.setRunning(true);
    view.redraw();
  });

  socket.on('progress', (d) => {
    const id = d.node ?? live.runningNode;
    if (id == null) return;
    live.ensure(id).progress = { value: d.value, max: d.max };
    view.redraw();
  });

  socket.on('executed', (d) => {
    const images = (d.output?.images ?? []) as ImageRef[];
    if (images.length) setImages(String(d.node), images.map((ref) => api.viewUrl(ref)));
  });

  socket.on('training_metrics', (d) => {
    const s = live.ensure(d.node);
    s.metrics = { step: d.step, values: d.values };
    if (typeof d.values?.loss === 'number') {
      s.lossHistory.push(d.values.loss);
      if (s.lossHistory.length > 500) s.lossHistory.shift();
    }
    charts.add(d);
    view.redraw();
  });

  socket.onPreview((frame, nodeId) => {
    const id = nodeId ?? live.runningNode;
    if (!id) return;
    for (const u of objectUrls) URL.revokeObjectURL(u);
    objectUrls = [URL.createObjectURL(frame.blob)];
    setImages(id, objectUrls);
  });

  socket.on('execution_success', () => {
    finishRun();
    toast('Run finished', 'success');
  });

  socket.on('execution_error', (d) => {
    const id = String(d.node_id);
    live.ensure(id).error = { type: d.exception_type || 'Error', message: d.exception_message || 'failed' };
    const n = node(id);
    if (n) n.has_errors = true;
    finishRun();
    toast(`${d.node_type ?? 'Node'} #${id} failed: ${d.exception_message}`, 'error');
  });

  socket.on('execution_interrupted', () => {
    finishRun();
    toast('Run interrupted', 'info');
  });
}
