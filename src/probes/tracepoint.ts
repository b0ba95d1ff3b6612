// tracepoint:CATEGORY:EVENT, with wildcards in both parts. Fields of `args`
// come from the event's tracefs format file.
import type { AttachPoint } from '../lang/ast.js';
import { openTracepoint } from '../bpf/perf.js';
import { attachPerfEvent } from '../bpf/link.js';
import { eventFormat, listEvents, type TracepointField } from './tracefs.js';
import { intTy, strTy, type CType, type Ty } from '../analysis/types.js';
import { primitive, pointerTo, voidType } from '../analysis/ctypes.js';
import { globToRegExp, hasWildcard, ProbeError, type ArgsField, type Provider, type ProbeTarget } from './provider.js';
import { decimal, isIdentChar, squeezeSpaces } from '../chars.js';

export const PROG_TRACEPOINT = 5;

const QUALIFIERS = new Set(['const', 'volatile', '__user']);

/** A field's type without qualifiers, blanks squeezed. */
function unqualified(type: string): string {
  // An attribute (never seen in a format file yet) takes the general way.
  if (type.includes('__attribute__')) return type.replace(/\b(const|volatile|__user|__attribute__\(\([^)]*\)\))\b/g, '').replace(/\s+/g, ' ').trim();
  let out = '';
  for (let i = 0; i < type.length; ) {
    let j = i;
    while (j < type.length && isIdentChar(type.charCodeAt(j))) j++;
    if (j > i) {
      const w = type.slice(i, j);
      if (!QUALIFIERS.has(w)) out += w;
      i = j;
    } else out += type[i++];
  }
  return squeezeSpaces(out);
}

/** The C type of a format field, as far as the compiler needs it. */
function fieldCType(f: TracepointField): CType {
  let text = unqualified(f.type);
  if (text.startsWith('__data_loc ')) text = text.slice('__data_loc '.length);
  // One trailing `[N]` or `[]`.
  const open = text.endsWith(']') ? text.lastIndexOf('[') : -1;
  if (open >= 0 && (open + 2 === text.length || decimal(text.slice(open + 1, -1)) !== undefined)) text = text.slice(0, open);
  text = text.trim();
  let ptr = 0;
  while (text.endsWith('*')) {
    ptr++;
    text = text.slice(0, -1).trim();
  }
  let base: CType = primitive(text) ?? (text.startsWith('struct ') || text.startsWith('union ') ? { name: text, kind: 'struct', size: 0, members: () => [] } : { name: text, kind: 'int', size: ptr ? 8 : f.size, signed: f.signed });
  if (text === 'void') base = voidType;
  for (let i = 0; i < ptr; i++) base = pointerTo(base);
  return base;
}

export function argsFields(cat: string, name: string, maxStrlen: number): ArgsField[] {
  const fmt = eventFormat(cat, name);
  const out: ArgsField[] = [];
  for (const f of fmt.fields) {
    if (f.common) continue;
    const ctype = fieldCType(f);
    let ty: Ty;
    if (f.dataLoc) ty = strTy(maxStrlen);
    else if (f.arrayLen !== null) {
      const elSize = f.size / Math.max(1, f.arrayLen);
      if (elSize === 1 && f.type.includes('char')) ty = strTy(f.size);
      else ty = { k: 'array', elem: intTy((elSize as 1 | 2 | 4 | 8) || 1, f.signed), len: f.arrayLen, size: f.size };
    } else if (ctype.kind === 'ptr') ty = { k: 'ptr', to: ctype.target!(), size: 8 };
    else ty = intTy(f.size === 1 || f.size === 2 || f.size === 4 ? f.size : 8, f.signed);
    const size = (f.size === 1 || f.size === 2 || f.size === 4 ? f.size : 8) as 1 | 2 | 4 | 8;
    out.push({
      name: f.name,
      ty,
      ctype,
      read: f.dataLoc ? { kind: 'dataloc', off: f.offset } : { kind: 'ctx', off: f.offset, size, signed: f.signed },
      user: ctype.kind === 'ptr' && cat === 'syscalls',
    });
  }
  return out;
}

export interface TracepointOptions {
  maxStrlen: number;
}

export function tracepointProvider(opts: TracepointOptions): Provider {
  return {
    names: ['tracepoint', 't'],
    expand(ap: AttachPoint): ProbeTarget[] {
      if (ap.parts.length !== 2) throw new ProbeError(`tracepoint probe must have a category and an event name, e.g. tracepoint:syscalls:sys_enter_openat`);
      const [cat, ev] = ap.parts;
      let names: [string, string][];
      if (hasWildcard(cat) || hasWildcard(ev)) {
        const rc = globToRegExp(cat);
        const re = globToRegExp(ev);
        names = listEvents().filter((x) => rc.test(x.category) && re.test(x.name)).map((x) => [x.category, x.name]);
      } else names = [[cat, ev]];
      return names.map(([c, n]) => {
        let args: ArgsField[];
        let id: number;
        try {
          id = eventFormat(c, n).id;
          args = argsFields(c, n, opts.maxStrlen);
        } catch {
          throw new ProbeError(`tracepoint not found: ${c}:${n}`);
        }
        return { provider: 'tracepoint', name: `tracepoint:${c}:${n}`, progType: PROG_TRACEPOINT, args, data: { id, cat: c, event: n } };
      });
    },
    attach(progFd, t) {
      const ev = openTracepoint(t.data.id as number, `tracepoint:${t.data.cat}:${t.data.event}`);
      return attachPerfEvent(progFd, ev);
    },
    list(pattern: string): string[] {
      const re = globToRegExp(pattern.replace(/^(tracepoint|t):/, '') || '*:*');
      return listEvents().map((e) => `tracepoint:${e.category}:${e.name}`).filter((n) => re.test(n.slice('tracepoint:'.length)));
    },
  };
}
