// BTF types as C text. C declarators read inside-out (`char *argv[4]` is an
// array of pointers, `char (*p)[4]` a pointer to an array), so the text is
// built the same way: each layer wraps the declarator so far and hands it to
// the type it refers to, and the base type finally goes in front.
import type { Btf } from './btf.js';
import { BtfError } from './types.js';

/** `char comm[16]` with a name, `char[16]` without; `int (*)(void *)` for function pointers. */
export function formatType(btf: Btf, id: number, name?: string): string {
  return declare(btf, id, name ?? '', 0);
}

function place(base: string, inner: string): string {
  if (inner === '') return base;
  // `char[16]` reads as one type; everything else keeps a space after the base.
  return inner[0] === '[' ? base + inner : `${base} ${inner}`;
}

function declare(btf: Btf, id: number, inner: string, depth: number): string {
  if (depth > 64) throw new BtfError(`type id ${id}: declarator nests too deep`);
  const t = btf.type(id);
  switch (t.kind) {
    case 'void': return place('void', inner);
    case 'int': case 'float': case 'typedef': return place(t.name, inner);
    case 'struct': case 'union': case 'enum': return place(`${t.kind} ${t.name || '{...}'}`, inner);
    case 'enum64': return place(`enum ${t.name || '{...}'}`, inner);
    case 'fwd': return place(`${t.union ? 'union' : 'struct'} ${t.name}`, inner);
    case 'ptr': {
      const target = btf.type(t.type).kind;
      const wrapped = target === 'array' || target === 'func_proto' ? `(*${inner})` : `*${inner}`;
      return declare(btf, t.type, wrapped, depth + 1);
    }
    case 'array': return declare(btf, t.elem, `${inner}[${t.nelems}]`, depth + 1);
    case 'func_proto': {
      const params = t.params.map((p) => declare(btf, p.typeId, p.name, depth + 1));
      if (t.variadic) params.push('...');
      return declare(btf, t.ret, `${inner}(${params.length ? params.join(', ') : 'void'})`, depth + 1);
    }
    case 'const': case 'volatile': case 'restrict': {
      // A qualified pointer puts the qualifier after its star (`char *const p`);
      // anything else takes it in front (`const char`).
      if (btf.type(btf.resolve(t.type)).kind === 'ptr' && btf.type(t.type).kind !== 'typedef') {
        return declare(btf, t.type, inner === '' ? t.kind : `${t.kind} ${inner}`, depth + 1);
      }
      return `${t.kind} ${declare(btf, t.type, inner, depth + 1)}`;
    }
    // Tags (`__user`, `__rcu`) are annotations, not part of the C type.
    case 'type_tag': case 'decl_tag': return declare(btf, t.type, inner, depth + 1);
    case 'func': return declare(btf, t.proto, inner || t.name, depth + 1);
    case 'var': return declare(btf, t.type, inner || t.name, depth + 1);
    case 'datasec': return place(`SEC("${t.name}")`, inner);
  }
}
