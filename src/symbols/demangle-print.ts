// Printing a demangled tree the way GNU's demangler does: C declarator
// syntax for pointers to functions and arrays, `> >`, template parameters
// resolved against the function template being printed, pack expansions.
import { Fail, isExpr, joinList, type N, templateArgsOf } from './demangle-ast.js';

/** Literal suffixes: `Lm5E` prints `5ul`; types not listed print as `(type)5`. */
const LIT_SUFFIX: Record<string, string> = {
  int: '', 'unsigned int': 'u', long: 'l', 'unsigned long': 'ul', 'long long': 'll', 'unsigned long long': 'ull',
};

export class Printer {
  /** While printing one element of a pack expansion: the pack and which element. */
  private packAt = new Map<N, number>();
  /**
   * Template arguments of the function templates being printed, innermost
   * last. `T_` means the innermost one's first argument, wherever the node
   * was parsed: a substitution made inside a nested template means the outer
   * template's parameter when used outside, as GNU reads it.
   */
  private templates: N[][] = [];

  /** Substitutions can nest a name inside itself many times over; crafted input must not blow up. */
  private steps = 0;

  constructor(private readonly cxxfilt: boolean) {}

  private step(): void {
    if (++this.steps > 200_000) throw new Fail();
  }

  top(n: N): string {
    return this.name(n);
  }

  private lookup(n: N & { k: 'tparam' }): N | undefined {
    return this.templates[this.templates.length - 1]?.[n.idx];
  }

  private resolve(n: N & { k: 'tparam' }): N {
    const a = this.lookup(n);
    if (!a) throw new Fail();
    if (a.k === 'pack' && this.packAt.has(a)) {
      const e = a.elems[this.packAt.get(a)!];
      if (!e) throw new Fail();
      return e;
    }
    return a;
  }

  /** Prints an argument `T_` stands for; it may itself name a parameter of an outer template. */
  private viaParam<R>(n: N & { k: 'tparam' }, f: (a: N) => R): R {
    const a = this.resolve(n);
    const top = this.templates.pop();
    try {
      return f(a);
    } finally {
      if (top) this.templates.push(top);
    }
  }

  name(n: N): string {
    this.step();
    switch (n.k) {
      case 'text':
        return n.s;
      case 'qual':
        return `${this.name(n.scope)}::${this.name(n.name)}`;
      case 'tmpl': {
        const head = this.name(n.name);
        const printed = n.args.map((a) => this.arg(a));
        const args = joinList(printed);
        const open = head.endsWith('<') ? ' <' : '<';
        // GNU separates `> >`, but not after a trailing empty pack (its ", " was written and taken back).
        const lastEmpty = printed.length > 1 && printed[printed.length - 1] === '';
        return `${head}${open}${args}${args.endsWith('>') && !lastEmpty ? ' ' : ''}>`;
      }
      case 'ctor':
        return n.name;
      case 'dtor':
        return `~${n.name}`;
      case 'op':
        return n.s;
      case 'conv':
        return `operator ${this.type(n.type)}`;
      case 'tag':
        return `${this.name(n.name)}[abi:${n.tag}]`;
      case 'lambda':
        return `{lambda(${this.params(n.params)})#${n.num}}`;
      case 'unnamed':
        return `{unnamed type#${n.num}}`;
      case 'local':
        // The enclosing function is shown without its return type.
        return `${n.fn.k === 'enc' ? this.encoding(n.fn, false) : this.name(n.fn)}::${this.name(n.entity)}`;
      case 'special':
        if (n.infix) return `${n.prefix}${this.type(n.inner)}-in-${this.type(n.infix)}`;
        return `${n.prefix}${n.inner.k === 'enc' || n.inner.k === 'local' || n.inner.k === 'qual' ? this.name(n.inner) : this.type(n.inner)}`;
      case 'enc':
        return this.encoding(n);
      case 'tparam':
        return this.viaParam(n, (a) => this.type(a));
      default:
        return this.type(n);
    }
  }

  private encoding(n: N & { k: 'enc' }, withReturn = true): string {
    const args = templateArgsOf(n.name);
    if (args) this.templates.push(args);
    try {
      const f = n.fn;
      const tail = `(${this.params(f.params)})${f.cv.map((q) => ` ${q}`).join('')}${f.ref ? ` ${f.ref}` : ''}${f.ex}`;
      const nm = this.name(n.name);
      if (!f.ret || !withReturn) return nm + tail;
      // A return type that is a declarator (pointer to function or array) wraps the name.
      if (this.isDeclarator(f.ret)) return this.decl(f.ret, nm + tail, false);
      return `${this.type(f.ret)} ${nm}${tail}`;
    } finally {
      if (args) this.templates.pop();
    }
  }

  private isDeclarator(n: N): boolean {
    switch (n.k) {
      case 'fn':
      case 'arr':
        return true;
      case 'pm':
        return true;
      case 'ptr':
      case 'lref':
      case 'rref':
      case 'cv':
        return this.isDeclarator(n.inner);
      case 'tparam':
        return this.viaParam(n, (a) => this.isDeclarator(a));
      default:
        return false;
    }
  }

  private params(ps: N[]): string {
    return joinList(ps.map((p) => this.type(p)));
  }

  private arg(a: N): string {
    if (a.k === 'pack') return a.elems.map((e) => this.arg(e)).filter((s) => s !== '').join(', ');
    if (a.k === 'tparam') return this.viaParam(a, (x) => this.arg(x));
    if (isExpr(a)) return this.expr(a);
    return this.type(a);
  }

  type(n: N): string {
    return this.decl(n, '', false);
  }

  /**
   * C declarator printing: `d` is what goes where the declared name would
   * be, built from the outside in (`*`, `&`, ` const`, `A::*`, `[3]`).
   * `named` says `d` starts with a name (the function in an encoding).
   */
  private decl(n: N, d: string, named: boolean): string {
    this.step();
    switch (n.k) {
      case 'ptr':
        return this.decl(n.inner, `*${d}`, false);
      case 'lref':
      case 'rref': {
        const kind = n.k;
        if (n.inner.k === 'tparam') return this.viaParam(n.inner, (a) => this.decl({ k: kind, inner: a }, d, named));
        const inner = n.inner;
        // Reference collapsing: T& with T = U&& is U&.
        if (inner.k === 'lref' || inner.k === 'rref') {
          const k = n.k === 'lref' || inner.k === 'lref' ? 'lref' : 'rref';
          return this.decl({ k, inner: inner.inner }, d, named);
        }
        return this.decl(inner, `${n.k === 'lref' ? '&' : '&&'}${d}`, false);
      }
      case 'cv': {
        const q0 = n.q;
        if (n.inner.k === 'tparam') return this.viaParam(n.inner, (a) => this.decl({ k: 'cv', inner: a, q: q0 }, d, named));
        let inner: N = n.inner;
        if (inner.k === 'arr') return this.decl({ k: 'arr', dim: inner.dim, inner: { k: 'cv', inner: inner.inner, q: n.q } }, d, named);
        let qs = n.q;
        if (inner.k === 'cv') {
          // `KT_` with T = `X const` is still just `X const`.
          const have = inner.q;
          qs = [...have, ...n.q.filter((x) => !have.includes(x))];
          inner = inner.inner;
        }
        const q = qs.map((x) => ` ${x}`).join('');
        return this.decl(inner, q + (d.startsWith('(') || d.startsWith('[') ? ' ' : '') + d, false);
      }
      case 'fn': {
        const inner = d === '' ? '' : named ? d : `(${d})`;
        const tail = `(${this.params(n.params)})${n.cv.map((q) => ` ${q}`).join('')}${n.ref ? ` ${n.ref}` : ''}${n.ex}`;
        if (!n.ret) return inner + tail;
        if (this.isDeclarator(n.ret)) return this.decl(n.ret, inner + tail, false);
        return `${this.type(n.ret)} ${inner}${tail}`;
      }
      case 'arr': {
        const dim = `[${n.dim ? this.arg(n.dim) : ''}]`;
        const inner = d === '' ? dim : d.startsWith('[') ? d + dim : `(${d}) ${dim}`;
        return this.decl(n.inner, inner, false);
      }
      case 'pm': {
        const cls = this.type(n.cls);
        if (n.mem.k === 'fn') return this.decl(n.mem, `${cls}::*${d}`, false);
        return this.decl(n.mem, ` ${cls}::*${d}`, false);
      }
      case 'tparam':
        return this.viaParam(n, (a) => this.decl(a, d, named));
      case 'expand':
        return this.join(this.expand(n), d);
      case 'pack':
        return this.join(n.elems.map((e) => this.type(e)).filter((s) => s !== '').join(', '), d);
      case 'suffix':
        return this.join(this.type(n.inner) + n.s, d);
      case 'decltype':
        return this.join(`decltype (${this.expr(n.expr)})`, d);
      case 'enc':
      case 'local':
      case 'special':
        return this.join(this.name(n), d);
      default:
        if (isExpr(n)) return this.join(this.expr(n), d);
        return this.join(this.name(n), d);
    }
  }

  private join(base: string, d: string): string {
    if (d === '') return base;
    return base + (d.startsWith('(') || d.startsWith('[') || /^[A-Za-z_~{]/.test(d) ? ' ' : '') + d;
  }

  /** `Dp<pattern>`: the pattern once per element of the pack it names. */
  private expand(n: N & { k: 'expand' }): string {
    const pack = this.findPack(n.pattern);
    if (!pack) return `${this.type(n.pattern)}...`;
    const out: string[] = [];
    for (let i = 0; i < pack.elems.length; i++) {
      this.packAt.set(pack, i);
      try {
        out.push(this.type(n.pattern));
      } finally {
        this.packAt.delete(pack);
      }
    }
    return out.filter((s) => s !== '').join(', ');
  }

  private findPack(n: N): (N & { k: 'pack' }) | null {
    switch (n.k) {
      case 'tparam': {
        const a = this.lookup(n);
        return a && a.k === 'pack' ? a : null;
      }
      case 'ptr':
      case 'lref':
      case 'rref':
      case 'cv':
      case 'suffix':
        return this.findPack(n.inner);
      case 'tmpl':
        for (const a of n.args) {
          const p = this.findPack(a);
          if (p) return p;
        }
        return null;
      case 'fn':
        for (const a of [...(n.ret ? [n.ret] : []), ...n.params]) {
          const p = this.findPack(a);
          if (p) return p;
        }
        return null;
      default:
        return null;
    }
  }

  expr(n: N): string {
    switch (n.k) {
      case 'lit':
        return this.literal(n);
      case 'tparam':
        return this.viaParam(n, (a) => this.arg(a));
      case 'unary':
        if (n.op.endsWith('post')) return `${this.sub(n.arg)}${n.op.slice(0, -4)}`;
        if (n.op === 'sizeof...') return `sizeof...(${this.arg(n.arg)})`;
        // The address of a function is written without its parameter list.
        // (A function template's is printed whole, return type included, in parentheses.)
        if (n.op === '&' && n.arg.k === 'enc') return n.arg.fn.ret ? `&(${this.name(n.arg)})` : `&${this.name(n.arg.name)}`;
        return `${n.op}${this.sub(n.arg)}`;
      case 'binary': {
        const s = `${this.sub(n.l)}${n.op}${this.sub(n.r)}`;
        return n.op === '>' ? `(${s})` : s;
      }
      case 'call':
        return `${this.sub(n.fn)}(${n.args.map((a) => this.expr(a)).join(', ')})`;
      case 'castexpr':
        return `(${this.type(n.type)})(${n.args.map((a) => this.expr(a)).join(', ')})`;
      case 'sizeof':
        return `${n.type ? 'sizeof' : 'alignof'} (${this.type(n.what)})`;
      case 'member':
        return `${this.sub(n.obj)}${n.op}${this.name(n.name)}`;
      case 'decltype':
        return `decltype (${this.expr(n.expr)})`;
      default:
        return this.name(n);
    }
  }

  /** Operands print bare only when they are names; anything else is parenthesised. */
  private sub(n: N): string {
    if (n.k === 'tparam') return this.viaParam(n, (a) => this.sub(a));
    const r = n;
    const s = this.expr(r);
    // Newer libiberty (binutils) also parenthesises a name ending in template arguments.
    if (r.k === 'text' || (r.k === 'qual' && (r.name.k !== 'tmpl' || !this.cxxfilt))) return s;
    return `(${s})`;
  }

  private literal(n: N & { k: 'lit' }): string {
    const t = this.type(n.type);
    if (t === 'bool' && (n.value === '0' || n.value === '1')) return n.value === '0' ? 'false' : 'true';
    if (t in LIT_SUFFIX && /^-?\d+$/.test(n.value)) return n.value + LIT_SUFFIX[t];
    if (t === 'decltype(nullptr)' && n.value === '') return `(${t})0`;
    return `(${t})${n.value}`;
  }
}
