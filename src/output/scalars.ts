// Text forms of the leaf values. The JSON renderer reuses these and only adds
// quoting, which is how bpftrace keeps both formats printing the same words.
import { strerror } from './errno.js';
import { formatStrftime } from './strftime.js';
import type { StackFrame, StackValue, Symbolizer, SymValue, Value } from './value.js';

export interface LeafContext {
  symbolizer?: Symbolizer;
  /** Map keys indent stack frames by 4, values and printf by 8. */
  inKey: boolean;
}

/** buf() with %r: printable ASCII kept, every other byte as \xNN. */
export function bufText(bytes: Uint8Array, mode: 'r' | 'rx' | 'rh' = 'r'): string {
  const hex = (b: number) => b.toString(16).padStart(2, '0');
  if (mode === 'rh') return Array.from(bytes, hex).join(' ');
  let out = '';
  for (const b of bytes) out += mode === 'r' && b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : `\\x${hex(b)}`;
  return out;
}

/** inet_ntop(): dotted quad, or RFC 5952 IPv6 with glibc's embedded-IPv4 forms. */
export function ntop(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return '';
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  // The longest run of two or more zero words (the first on ties) becomes "::".
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best >= 0 && i >= best && i < best + bestLen) {
      if (i === best) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // ::a.b.c.d and ::ffff:a.b.c.d keep the IPv4 tail dotted.
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += Array.from(bytes.subarray(12)).join('.');
      return out;
    }
    out += words[i].toString(16);
  }
  if (best >= 0 && best + bestLen === 8) out += ':';
  return out;
}

export function macText(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 6), (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

// C++ streams print a null pointer as plain "0".
const hexAddr = (addr: bigint) => (addr === 0n ? '0' : `0x${addr.toString(16)}`);

function resolveFrame(f: StackFrame, s: StackValue, symbolizer: Symbolizer | undefined): { name?: string; offset?: bigint; module?: string } {
  if (f.symbol !== undefined) return { name: f.symbol, offset: f.offset, module: f.module };
  const r = symbolizer ? (s.user ? symbolizer.usym(f.addr, s.pid) : symbolizer.ksym(f.addr)) : undefined;
  return r ? { name: r.name, offset: r.offset, module: r.module } : {};
}

/**
 * kstack/ustack: a leading newline, then one line per frame. bpftrace mode
 * indents `sym+off` by 4 (map keys) or 8; perf mode is `\taddr sym` with the
 * module in parentheses for user frames; raw mode is bare hex addresses.
 */
export function stackText(s: StackValue, ctx: LeafContext): string {
  let out = '\n';
  const pad = ' '.repeat(ctx.inKey ? 4 : 8);
  for (const f of s.frames) {
    if (s.mode === 'raw') {
      out += `${f.addr.toString(16)}\n`;
      continue;
    }
    const r = resolveFrame(f, s, ctx.symbolizer);
    let sym = r.name !== undefined ? `${r.name}+${r.offset ?? 0n}` : hexAddr(f.addr);
    if (s.mode === 'perf') {
      if (s.user) sym += ` (${r.name !== undefined && r.module ? r.module : '[unknown]'})`;
      out += `\t${f.addr.toString(16)} ${sym}\n`;
    } else {
      out += `${pad}${sym}\n`;
    }
  }
  return out;
}

export function symText(v: SymValue, symbolizer: Symbolizer | undefined): string {
  if (v.symbol !== undefined) return v.symbol;
  const r = symbolizer ? (v.kind === 'ksym' ? symbolizer.ksym(v.addr) : symbolizer.usym(v.addr, v.pid)) : undefined;
  return r ? r.name : hexAddr(v.addr);
}

/** The text of a value the way bpftrace prints it in text mode. */
export function valueText(v: Value, ctx: LeafContext): string {
  switch (v.kind) {
    case 'int': return v.value.toString();
    case 'bool': return v.value ? 'true' : 'false';
    case 'str': return v.value;
    case 'buf': return bufText(v.bytes);
    case 'tuple': return `(${v.items.map((i) => valueText(i, ctx)).join(', ')})`;
    case 'record': return `{ ${v.fields.map((f) => `.${f.name} = ${valueText(f.value, ctx)}`).join(', ')} }`;
    case 'array': return `[${v.items.map((i) => valueText(i, ctx)).join(',')}]`;
    // 0.17 has no pointer case and falls through to a signed 64-bit read.
    case 'ptr': return BigInt.asIntN(64, v.value).toString();
    case 'stack': return stackText(v, ctx);
    case 'ksym': case 'usym': return symText(v, ctx.symbolizer);
    case 'inet': return ntop(v.bytes);
    case 'mac': return macText(v.bytes);
    case 'timestamp': return formatStrftime(v.format, v.epochNs, { micros: true }) ?? '(?)';
    case 'cgroup_path': return v.path;
    case 'strerror': return strerror(v.errno);
    case 'username': return v.name;
    case 'probe': return v.name;
    case 'none': return '';
  }
}
