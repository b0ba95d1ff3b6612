// The demangler's syntax tree, shared by its parser (demangle.ts) and its
// printer (demangle-print.ts), and the small helpers both need.

export type N =
  | { k: 'text'; s: string }
  | { k: 'qual'; scope: N; name: N }
  | { k: 'tmpl'; name: N; args: N[] }
  | { k: 'cv'; inner: N; q: string[] }
  | { k: 'ptr' | 'lref' | 'rref'; inner: N }
  | { k: 'suffix'; inner: N; s: string }
  | { k: 'fn'; ret: N | null; params: N[]; cv: string[]; ref: string; ex: string }
  | { k: 'arr'; dim: N | null; inner: N }
  | { k: 'pm'; cls: N; mem: N }
  | { k: 'pack'; elems: N[] }
  | { k: 'expand'; pattern: N }
  | { k: 'tparam'; idx: number }
  | { k: 'ctor' | 'dtor'; name: string }
  | { k: 'op'; s: string }
  | { k: 'conv'; type: N }
  | { k: 'tag'; name: N; tag: string }
  | { k: 'lambda'; params: N[]; num: number }
  | { k: 'unnamed'; num: number }
  | { k: 'local'; fn: N; entity: N }
  | { k: 'special'; prefix: string; inner: N; infix?: N }
  | { k: 'enc'; name: N; fn: N & { k: 'fn' } }
  | { k: 'lit'; type: N; value: string }
  | { k: 'unary'; op: string; arg: N }
  | { k: 'binary'; op: string; l: N; r: N }
  | { k: 'call'; fn: N; args: N[] }
  | { k: 'castexpr'; type: N; args: N[] }
  | { k: 'decltype'; expr: N }
  | { k: 'sizeof'; what: N; type: boolean }
  | { k: 'member'; obj: N; op: string; name: N };

/** Thrown anywhere in parsing or printing when the input is not something we can read. */
export class Fail extends Error {}

/** The template arguments of a name, if its last component is a template. */
export function templateArgsOf(n: N): N[] | null {
  if (n.k === 'tmpl') return n.args;
  if (n.k === 'qual') return templateArgsOf(n.name);
  if (n.k === 'local') return templateArgsOf(n.entity);
  return null;
}

/** Constructors, destructors and conversion operators have no return type even as templates. */
export function isCtorDtorConv(n: N): boolean {
  if (n.k === 'tmpl') return isCtorDtorConv(n.name);
  if (n.k === 'qual') return isCtorDtorConv(n.name);
  if (n.k === 'local') return isCtorDtorConv(n.entity);
  if (n.k === 'tag') return isCtorDtorConv(n.name);
  return n.k === 'ctor' || n.k === 'dtor' || n.k === 'conv';
}

/**
 * GNU's list printing: each ", " is written before the rest of the list and
 * taken back only if the rest printed nothing. So an empty pack expansion in
 * the middle leaves `a, , b`, and one at the end vanishes.
 */
export function joinList(items: string[]): string {
  let out = '';
  for (let i = items.length - 1; i >= 0; i--) out = i === items.length - 1 ? items[i] : out === '' ? items[i] : `${items[i]}, ${out}`;
  return out;
}

export function isExpr(n: N): boolean {
  return n.k === 'lit' || n.k === 'unary' || n.k === 'binary' || n.k === 'call' || n.k === 'castexpr' || n.k === 'sizeof' || n.k === 'member';
}
