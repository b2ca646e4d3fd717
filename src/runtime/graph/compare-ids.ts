// The order node ids are run and listed in: ComfyUI's ids are numbers as strings ("10", "10:3" in groups), so a
// plain string sort would put "10" before "2".

/** Node ids in natural order: "2" < "10" < "10:3" < "a". */
export function compareIds(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const [x, y] = [pa[i], pb[i]];
    if (x === y) continue;
    const [dx, dy] = [/^\d/.test(x), /^\d/.test(y)];
    if (dx && dy) {
      const [nx, ny] = [x.replace(/^0+(?=\d)/, ''), y.replace(/^0+(?=\d)/, '')];
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length;
    }
    if (dx !== dy) return dx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
