// Keyboard shortcuts beyond litegraph's own (Delete, Ctrl+C/V...): Ctrl+Enter queues; ComfyUI's Ctrl+B bypasses
// and Ctrl+M mutes the selected nodes (again: back to normal). Not while typing in a field.
import { MODE_BYPASS, MODE_MUTED } from '../../src/runtime/graph/workflow-to-prompt.js';

export interface ShortcutActions {
  queue(): void;
  toggleMode(mode: number): void;
}

export function installShortcuts(actions: ShortcutActions): void {
  document.addEventListener('keydown', (e) => {
    const target = e.target as HTMLElement | null;
    if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA')) return;
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      actions.queue();
    } else if ((e.key === 'b' || e.key === 'm') && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      actions.toggleMode(e.key === 'b' ? MODE_BYPASS : MODE_MUTED);
    }
  });
}
