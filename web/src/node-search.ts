// The searchable "add node" menu: type to filter by name, class, category, or socket type; arrows and Enter pick.
export interface SearchItem {
  type: string;
  title: string;
  category: string;
  description: string;
  inputTypes: string[];
  outputTypes: string[];
}

export interface SearchRequest {
  /** Where to show the menu (client coordinates); centred when absent. */
  at?: { x: number; y: number };
  /** Only nodes that take (input) or give (output) this socket type: after dropping a link on the canvas. */
  filter?: { input?: string; output?: string };
  onPick(type: string): void;
}

/** Items matching every word of `query`, best first: title prefix, then title, then class/category/types. */
export function searchNodes(items: SearchItem[], query: string, filter?: SearchRequest['filter']): SearchItem[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const matchesType = (types: string[], t: string) => t === '*' || types.includes(t) || types.includes('*');
  const scored: [number, SearchItem][] = [];
  for (const item of items) {
    if (filter?.input && !matchesType(item.inputTypes, filter.input)) continue;
    if (filter?.output && !matchesType(item.outputTypes, filter.output)) continue;
    const title = item.title.toLowerCase();
    const hay = `${title} ${item.type.toLowerCase()} ${item.category.toLowerCase()} ${[...item.inputTypes, ...item.outputTypes].join(' ').toLowerCase()}`;
    if (!words.every((w) => hay.includes(w))) continue;
    let score = 0;
    if (words.length) {
      if (title.startsWith(words[0])) score += 100;
      if (words.every((w) => title.includes(w))) score += 50;
      if (item.type.toLowerCase().startsWith(words[0])) score += 20;
    }
    scored.push([score, item]);
  }
  return scored.sort((a, b) => b[0] - a[0] || a[1].title.localeCompare(b[1].title)).map(([, i]) => i);
}

export class NodeSearch {
  private root?: HTMLDivElement;

  constructor(private readonly items: () => SearchItem[]) {}

  get isOpen(): boolean {
    return !!this.root;
  }

  open(req: SearchRequest): void {
    this.close();
    const root = document.createElement('div');
    root.className = 'node-search';
    root.setAttribute('role', 'dialog');
    root.innerHTML = `
      <input class="node-search-input" type="search" placeholder="Search nodes… (name, category, socket type)" aria-label="Search nodes" />
      <div class="node-search-filter"></div>
      <ul class="node-search-results" role="listbox"></ul>`;
    const input = root.querySelector('input')!;
    const list = root.querySelector('ul')!;
    const filterNote = root.querySelector<HTMLDivElement>('.node-search-filter')!;
    if (req.filter?.input) filterNote.textContent = `nodes taking ${req.filter.input}`;
    else if (req.filter?.output) filterNote.textContent = `nodes giving ${req.filter.output}`;
    else filterNote.remove();

    let results: SearchItem[] = [];
    let active = 0;
    const render = () => {
      results = searchNodes(this.items(), input.value, req.filter).slice(0, 60);
      active = Math.min(active, Math.max(0, results.length - 1));
      list.replaceChildren(
        ...results.map((item, i) => {
          const li = document.createElement('li');
          li.className = 'node-search-item' + (i === active ? ' active' : '');
          li.dataset.type = item.type;
          li.setAttribute('role', 'option');
          li.innerHTML = `<span class="title"></span><span class="category"></span><span class="description"></span>`;
          li.querySelector('.title')!.textContent = item.title;
          li.querySelector('.category')!.textContent = item.category || item.type;
          li.querySelector('.description')!.textContent = item.description;
          li.addEventListener('mousedown', (e) => {
            e.preventDefault();
            this.pick(req, item.type);
          });
          return li;
        }),
      );
      if (!results.length) {
        const li = document.createElement('li');
        li.className = 'node-search-empty';
        li.textContent = 'No matching nodes';
        list.append(li);
      }
      list.querySelector('.active')?.scrollIntoView({ block: 'nearest' });
    };
    input.addEventListener('input', () => {
      active = 0;
      render();
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') active = Math.min(active + 1, results.length - 1);
      else if (e.key === 'ArrowUp') active = Math.max(active - 1, 0);
      else if (e.key === 'Enter') {
        if (results[active]) this.pick(req, results[active].type);
        return;
      } else if (e.key === 'Escape') {
        this.close();
        return;
      } else return;
      e.preventDefault();
      render();
    });
    // Closing on blur must close this dialog only: a later one may already be open when the timer fires.
    input.addEventListener('blur', () => setTimeout(() => this.root === root && this.close(), 100));

    document.body.append(root);
    const w = 420;
    const h = 380;
    const x = req.at ? Math.min(Math.max(8, req.at.x - 20), innerWidth - w - 8) : (innerWidth - w) / 2;
    const y = req.at ? Math.min(Math.max(8, req.at.y - 20), innerHeight - h - 8) : innerHeight * 0.18;
    root.style.left = `${x}px`;
    root.style.top = `${y}px`;
    this.root = root;
    render();
    input.focus();
  }

  private pick(req: SearchRequest, type: string): void {
    this.close();
    req.onPick(type);
  }

  close(): void {
    this.root?.remove();
    this.root = undefined;
  }
}
