// The id the server sends this tab's messages to: kept for the tab's life, so a reload keeps receiving its runs.
export function clientId(): string {
  let id = sessionStorage.getItem('instructbooth.clientId');
  if (!id) {
    id = crypto.randomUUID?.() ?? `${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
    sessionStorage.setItem('instructbooth.clientId', id);
  }
  return id;
}
