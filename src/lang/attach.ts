// Splitting an attach point into provider and parts. Only the text is
// split: `kprobe:f+0x10` is ['f+0x10'], `uprobe:"/a b":f` is ['/a b', 'f'];
// what a part means is the provider's business.

export function splitAttachPoint(raw: string): { provider: string; parts: string[] } {
  const fields: string[] = [];
  let cur = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '"') {
      // Quotes protect `:` and are dropped; `\"` inside stands for a quote.
      for (i++; i < raw.length && raw[i] !== '"'; i++) {
        if (raw[i] === '\\' && raw[i + 1] === '"') i++;
        cur += raw[i];
      }
    } else if (c === '\\' && i + 1 < raw.length) {
      // Kept as written (`/bin/ba\ sh`), but the escaped character never splits.
      cur += c + raw[++i];
    } else if (c === ':') {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  const [provider, ...parts] = fields;
  return { provider, parts };
}
