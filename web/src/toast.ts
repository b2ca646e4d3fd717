// Short messages in the corner: errors stay until closed, the rest fade.
export type ToastKind = 'info' | 'success' | 'error';

export function toast(message: string, kind: ToastKind = 'info', detail?: string): void {
  const host = document.getElementById('toasts');
  if (!host) return;
  const el = document.createElement('div');
  el.className = `toast ${kind}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  const text = document.createElement('div');
  text.className = 'toast-text';
  text.textContent = message;
  el.append(text);
  if (detail) {
    const d = document.createElement('pre');
    d.className = 'toast-detail';
    d.textContent = detail;
    el.append(d);
  }
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'toast-close';
  close.textContent = '✕';
  close.setAttribute('aria-label', 'Dismiss');
  close.addEventListener('click', () => el.remove());
  el.append(close);
  host.append(el);
  while (host.children.length > 3) host.firstElementChild?.remove();
  if (kind !== 'error') setTimeout(() => el.remove(), 4000);
}
