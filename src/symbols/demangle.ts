// An Itanium C++ ABI demangler producing the text GNU's demangler does
// (`__cxa_demangle`, what bpftrace prints; or binutils `c++filt`): nested
// names, templates, substitutions, std:: abbreviations, operators, ctors and
// dtors, function and member-pointer types, lambdas, local names, clone
// suffixes, and the common template-argument expressions. Anything it does
// not understand returns null, so callers fall back to the mangled name
// rather than print something wrong.

import { Fail, isCtorDtorConv, type N, templateArgsOf } from './demangle-ast.js';
import { Printer } from './demangle-print.js';

const BUILTIN: Record<string, string> = {
  a: 'signed char', b: 'bool', c: 'char', d: 'double', e: 'long double', f: 'float', g: '__float128',
  h: 'unsigned char', i: 'int', j: 'unsigned int', l: 'long', m: 'unsigned long', n: '__int128',
  o: 'unsigned __int128', s: 'short', t: 'unsigned short', v: 'void', w: 'wchar_t', x: 'long long',
  y: 'unsigned long long', z: '...',
};
const BUILTIN_D: Record<string, string> = {
  d: 'decimal64', e: 'decimal128', f: 'decimal32', h: 'half', i: 'char32_t', s: 'char16_t', u: 'char8_t',
  a: 'auto', c: 'decltype(auto)', n: 'decltype(nullptr)',
};
// code -> [printed name, arity]
const OPS: Record<string, [string, number]> = {
  nw: ['new', 3], na: ['new[]', 3], dl: ['delete', 1], da: ['delete[]', 1], ps: ['+', 1], ng: ['-', 1],
  ad: ['&', 1], de: ['*', 1], co: ['~', 1], pl: ['+', 2], mi: ['-', 2], ml: ['*', 2], dv: ['/', 2],
  rm: ['%', 2], an: ['&', 2], or: ['|', 2], eo: ['^', 2], aS: ['=', 2], pL: ['+=', 2], mI: ['-=', 2],
  mL: ['*=', 2], dV: ['/=', 2], rM: ['%=', 2], aN: ['&=', 2], oR: ['|=', 2], eO: ['^=', 2], ls: ['<<', 2],
  rs: ['>>', 2], lS: ['<<=', 2], rS: ['>>=', 2], eq: ['==', 2], ne: ['!=', 2], lt: ['<', 2], gt: ['>', 2],
  le: ['<=', 2], ge: ['>=', 2], ss: ['<=>', 2], nt: ['!', 1], aa: ['&&', 2], oo: ['||', 2], pp: ['++', 1],
  mm: ['--', 1], cm: [',', 2], pm: ['->*', 2], pt: ['->', 2], cl: ['()', 2], ix: ['[]', 2], qu: ['?', 3],
  st: ['sizeof ', 1], sz: ['sizeof ', 1], at: ['alignof ', 1], az: ['alignof ', 1], dt: ['.', 2],
};

interface StdSub {
  simple: string;
  full: string;
  last: string;
}
const STD_SUBS: Record<string, StdSub> = {
  t: { simple: 'std', full: 'std', last: '' },
  a: { simple: 'std::allocator', full: 'std::allocator', last: 'allocator' },
  b: { simple: 'std::basic_string', full: 'std::basic_string', last: 'basic_string' },
  s: { simple: 'std::string', full: 'std::basic_string<char, std::char_traits<char>, std::allocator<char> >', last: 'basic_string' },
  i: { simple: 'std::istream', full: 'std::basic_istream<char, std::char_traits<char> >', last: 'basic_istream' },
  o: { simple: 'std::ostream', full: 'std::basic_ostream<char, std::char_traits<char> >', last: 'basic_ostream' },
  d: { simple: 'std::iostream', full: 'std::basic_iostream<char, std::char_traits<char> >', last: 'basic_iostream' },
};

const text = (s: string): N => ({ k: 'text', s });
class Parser {
  pos = 0;
  subs: N[] = [];
  lastName = '';
  constructor(
    readonly s: string,
    readonly cxxfilt: boolean,
  ) {}

  peek(o = 0): string {
    return this.s[this.pos + o] ?? '';
  }
  eat(c: string): boolean {
    if (this.s.startsWith(c, this.pos)) {
      this.pos += c.length;
      return true;
    }
    return false;
  }
  need(c: string): void {
    if (!this.eat(c)) throw new Fail();
  }
  isDigit(c: string): boolean {
    return c >= '0' && c <= '9';
  }
  isLower(c: string): boolean {
    return c >= 'a' && c <= 'z';
  }
  number(): number {
    const neg = this.eat('n');
    const start = this.pos;
    while (this.isDigit(this.peek())) this.pos++;
    if (start === this.pos) throw new Fail();
    const v = Number(this.s.slice(start, this.pos));
    return neg ? -v : v;
  }
  /** `_` = 0, `<base 36>_` = n + 1; used by S_, T_, discriminators. */
  seqId(): number {
    if (this.eat('_')) return 0;
    let v = 0;
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (this.isDigit(c)) v = v * 36 + (c.charCodeAt(0) - 48);
      else if (c >= 'A' && c <= 'Z') v = v * 36 + (c.charCodeAt(0) - 55);
      else break;
      this.pos++;
    }
    if (this.pos === start) throw new Fail();
    this.need('_');
    return v + 1;
  }
  addSub(n: N): void {
    this.subs.push(n);
  }

  // <mangled-name> ::= _Z <encoding> [. <clone-suffix>]*
  mangled(): string {
    this.need('_Z');
    const enc = this.encoding(true);
    let out = new Printer(this.cxxfilt).top(enc);
    while (this.peek() === '.' && /[a-z_0-9]/.test(this.peek(1))) {
      const m = /^\.[a-z_0-9][a-z_0-9]*(?:\.\d+)*/.exec(this.s.slice(this.pos));
      if (!m) break;
      out += ` [clone ${m[0]}]`;
      this.pos += m[0].length;
    }
    if (this.pos !== this.s.length) throw new Fail();
    return out;
  }

  encoding(top: boolean): N {
    const c = this.peek();
    if (c === 'G' || c === 'T') return this.specialName();
    const quals = { cv: [] as string[], ref: '' };
    const name = this.name(quals);
    const end = this.peek();
    if (end === '' || end === 'E' || (top && end === '.')) return name;
    const hasRet = templateArgsOf(name) !== null && !isCtorDtorConv(name);
    const fn = this.bareFunctionType(hasRet);
    fn.cv = quals.cv;
    fn.ref = quals.ref;
    return { k: 'enc', name, fn };
  }

  bareFunctionType(hasRet: boolean): N & { k: 'fn' } {
    const ret = hasRet ? this.type() : null;
    const params: N[] = [];
    while (this.pos < this.s.length && this.peek() !== 'E' && this.peek() !== '.') {
      if ((this.peek() === 'R' || this.peek() === 'O') && this.peek(1) === 'E') break;
      params.push(this.type());
    }
    if (params.length === 0) throw new Fail();
    if (params.length === 1 && params[0].k === 'text' && params[0].s === 'void') params.length = 0;
    return { k: 'fn', ret, params, cv: [], ref: '', ex: '' };
  }

  specialName(): N {
    const two = this.s.slice(this.pos, this.pos + 2);
    const simple: Record<string, string> = {
      TV: 'vtable for ', TT: 'VTT for ', TI: 'typeinfo for ', TS: 'typeinfo name for ',
    };
    if (simple[two]) {
      this.pos += 2;
      return { k: 'special', prefix: simple[two], inner: this.type() };
    }
    switch (two) {
      case 'Th':
        this.pos += 2;
        this.callOffset('h');
        return { k: 'special', prefix: 'non-virtual thunk to ', inner: this.encoding(false) };
      case 'Tv':
        this.pos += 2;
        this.callOffset('v');
        return { k: 'special', prefix: 'virtual thunk to ', inner: this.encoding(false) };
      case 'Tc':
        this.pos += 2;
        this.callOffset(this.peek() as 'h' | 'v', true);
        this.callOffset(this.peek() as 'h' | 'v', true);
        return { k: 'special', prefix: 'covariant return thunk to ', inner: this.encoding(false) };
      case 'TC': {
        this.pos += 2;
        const derived = this.type();
        this.number();
        this.need('_');
        const base = this.type();
        return { k: 'special', prefix: 'construction vtable for ', inner: base, infix: derived };
      }
      case 'TH':
        this.pos += 2;
        return { k: 'special', prefix: 'TLS init function for ', inner: this.name({ cv: [], ref: '' }) };
      case 'TW':
        this.pos += 2;
        return { k: 'special', prefix: 'TLS wrapper function for ', inner: this.name({ cv: [], ref: '' }) };
      case 'GV':
        this.pos += 2;
        return { k: 'special', prefix: 'guard variable for ', inner: this.name({ cv: [], ref: '' }) };
      case 'GA':
        this.pos += 2;
        return { k: 'special', prefix: 'hidden alias for ', inner: this.encoding(false) };
    }
    if (this.eat('GTt')) return { k: 'special', prefix: 'transaction clone for ', inner: this.encoding(false) };
    if (this.eat('GTn')) return { k: 'special', prefix: 'non-transaction clone for ', inner: this.encoding(false) };
    throw new Fail();
  }

  callOffset(kind: 'h' | 'v', prefixed = false): void {
    if (prefixed && !this.eat(kind)) throw new Fail();
    if (kind === 'h') {
      this.number();
      this.need('_');
    } else if (kind === 'v') {
      this.number();
      this.need('_');
      this.number();
      this.need('_');
    } else throw new Fail();
  }

  // <name>
  name(quals: { cv: string[]; ref: string }): N {
    const c = this.peek();
    if (c === 'N') return this.nestedName(quals);
    if (c === 'Z') return this.localName(quals);
    if (c === 'S' && this.peek(1) !== 't') {
      const sub = this.substitution(false);
      if (this.peek() === 'I') return { k: 'tmpl', name: sub, args: this.templateArgs() };
      return sub;
    }
    let n: N;
    if (c === 'S') {
      this.pos += 2;
      n = { k: 'qual', scope: text('std'), name: this.unqualifiedName() };
    } else n = this.unqualifiedName();
    if (this.peek() === 'I') {
      this.addSub(n);
      n = { k: 'tmpl', name: n, args: this.templateArgs() };
    }
    return n;
  }

  nestedName(quals: { cv: string[]; ref: string }): N {
    this.need('N');
    quals.cv = this.cvQuals();
    if (this.peek() === 'R' || this.peek() === 'O') quals.ref = this.s[this.pos++] === 'R' ? '&' : '&&';
    let ret: N | null = null;
    for (;;) {
      const c = this.peek();
      if (c === '') throw new Fail();
      if (c === 'E') {
        this.pos++;
        break;
      }
      let fromSub = false;
      if (c === 'D' && (this.peek(1) === 'T' || this.peek(1) === 't')) {
        if (ret) throw new Fail();
        ret = this.type();
        continue; // a decltype type was already recorded as a substitution
      } else if (c === 'I') {
        if (!ret) throw new Fail();
        ret = { k: 'tmpl', name: ret, args: this.templateArgs() };
      } else if (c === 'T') {
        if (ret) throw new Fail();
        ret = this.templateParam();
      } else if (c === 'M') {
        this.pos++;
        continue;
      } else if (c === 'S' && this.peek(1) !== 't') {
        if (ret) throw new Fail();
        ret = this.substitution(true);
        fromSub = true;
      } else if (c === 'S') {
        if (ret) throw new Fail();
        this.pos += 2;
        ret = text('std');
        fromSub = true;
      } else {
        const u = this.unqualifiedName();
        ret = ret ? { k: 'qual', scope: ret, name: u } : u;
      }
      if (!fromSub && this.peek() !== 'E') this.addSub(ret);
    }
    if (!ret) throw new Fail();
    return ret;
  }

  /** `Z <encoding> E <entity>`; the entity's own qualifiers (`NK...E`) belong to the caller's function. */
  localName(quals: { cv: string[]; ref: string }): N {
    this.need('Z');
    const fn = this.encoding(false);
    this.need('E');
    if (this.eat('s')) {
      this.discriminator();
      return { k: 'local', fn, entity: text('string literal') };
    }
    let entity: N;
    if (this.eat('d')) {
      const n = this.peek() === '_' ? 0 : this.number() + 1;
      this.need('_');
      const inner = this.name(quals);
      entity = { k: 'qual', scope: text(`{default arg#${n + 1}}`), name: inner };
    } else entity = this.name(quals);
    this.discriminator();
    return { k: 'local', fn, entity };
  }

  discriminator(): void {
    if (this.peek() !== '_') return;
    if (this.peek(1) === '_') {
      this.pos += 2;
      this.number();
      this.need('_');
    } else if (this.isDigit(this.peek(1))) {
      this.pos += 2;
    }
  }

  unqualifiedName(): N {
    const c = this.peek();
    let n: N;
    if (this.isDigit(c)) n = this.sourceName();
    else if (this.isLower(c)) n = this.operatorName();
    else if (c === 'C' || c === 'D') n = this.ctorDtor();
    else if (c === 'L') {
      this.pos++;
      n = this.sourceName();
      this.discriminator();
    } else if (c === 'U') n = this.unnamed();
    else throw new Fail();
    while (this.peek() === 'B') {
      this.pos++;
      const len = this.number();
      const tag = this.s.slice(this.pos, this.pos + len);
      if (tag.length !== len) throw new Fail();
      this.pos += len;
      n = { k: 'tag', name: n, tag };
    }
    return n;
  }

  sourceName(): N {
    const len = this.number();
    if (len <= 0) throw new Fail();
    const id = this.s.slice(this.pos, this.pos + len);
    if (id.length !== len) throw new Fail();
    this.pos += len;
    this.lastName = id;
    if (/^_GLOBAL_[._$]N/.test(id)) return text('(anonymous namespace)');
    return text(id);
  }

  operatorName(): N {
    const code = this.s.slice(this.pos, this.pos + 2);
    this.pos += 2;
    if (code === 'cv') return { k: 'conv', type: this.type() };
    if (code === 'li') return { k: 'op', s: `operator"" ${(this.sourceName() as { s: string }).s}` };
    if (code[0] === 'v' && this.isDigit(code[1])) return { k: 'op', s: `operator ${(this.sourceName() as { s: string }).s}` };
    const op = OPS[code];
    if (!op) throw new Fail();
    const sp = this.isLower(op[0][0]) ? ' ' : '';
    return { k: 'op', s: `operator${sp}${op[0].trimEnd()}` };
  }

  ctorDtor(): N {
    const c = this.s[this.pos++];
    if (c === 'C') {
      // CI1/CI2 <base>: a constructor inherited from <base>.
      const inherited = this.eat('I');
      if (!/[1-5]/.test(this.peek())) throw new Fail();
      this.pos++;
      const name = this.lastName;
      if (inherited) this.type();
      return { k: 'ctor', name };
    }
    if (!/[0-5]/.test(this.peek())) throw new Fail();
    this.pos++;
    return { k: 'dtor', name: this.lastName };
  }

  unnamed(): N {
    this.need('U');
    if (this.eat('t')) {
      const n = this.peek() === '_' ? 0 : this.number() + 1;
      this.need('_');
      return { k: 'unnamed', num: n + 1 };
    }
    if (this.eat('l')) {
      const params: N[] = [];
      while (this.peek() !== 'E') {
        if (this.peek() === '') throw new Fail();
        params.push(this.type());
      }
      this.pos++;
      if (params.length === 1 && params[0].k === 'text' && params[0].s === 'void') params.length = 0;
      const n = this.peek() === '_' ? 0 : this.number() + 1;
      this.need('_');
      return { k: 'lambda', params, num: n + 1 };
    }
    throw new Fail();
  }

  substitution(prefix: boolean): N {
    this.need('S');
    const c = this.peek();
    const std = STD_SUBS[c];
    if (std && c !== 't') {
      this.pos++;
      // Before a ctor/dtor the name must be the template's own (`basic_string`).
      const verbose = this.cxxfilt || (prefix && (this.peek() === 'C' || this.peek() === 'D'));
      this.lastName = std.last;
      return text(verbose ? std.full : std.simple);
    }
    const id = this.seqId();
    const n = this.subs[id];
    if (!n) throw new Fail();
    return n;
  }

  templateParam(): N {
    this.need('T');
    const idx = this.seqId();
    return { k: 'tparam', idx };
  }

  templateArgs(): N[] {
    this.need('I');
    const saved = this.lastName;
    const args: N[] = [];
    while (!this.eat('E')) {
      if (this.pos >= this.s.length) throw new Fail();
      args.push(this.templateArg());
    }
    this.lastName = saved;
    return args;
  }

  templateArg(): N {
    const c = this.peek();
    if (c === 'X') {
      this.pos++;
      const e = this.expression();
      this.need('E');
      return e;
    }
    if (c === 'L') return this.exprPrimary();
    if (c === 'J') {
      this.pos++;
      const elems: N[] = [];
      while (!this.eat('E')) {
        if (this.pos >= this.s.length) throw new Fail();
        elems.push(this.templateArg());
      }
      return { k: 'pack', elems };
    }
    return this.type();
  }

  exprPrimary(): N {
    this.need('L');
    if (this.eat('_Z')) {
      const e = this.encoding(false);
      this.need('E');
      return e;
    }
    const type = this.type();
    const start = this.pos;
    while (this.peek() !== 'E') {
      if (this.pos >= this.s.length) throw new Fail();
      this.pos++;
    }
    let value = this.s.slice(start, this.pos);
    this.pos++;
    if (value.startsWith('n')) value = `-${value.slice(1)}`;
    return { k: 'lit', type, value };
  }

  expression(): N {
    const c = this.peek();
    if (c === 'L') return this.exprPrimary();
    if (c === 'T') return this.templateParam();
    const two = this.s.slice(this.pos, this.pos + 2);
    if (two === 'fp') {
      this.pos += 2;
      this.cvQuals();
      const n = this.peek() === '_' ? 0 : this.number() + 1;
      this.need('_');
      return text(`{parm#${n + 1}}`);
    }
    if (two === 'sr') {
      this.pos += 2;
      return this.unresolvedName();
    }
    if (two === 'st' || two === 'at') {
      this.pos += 2;
      return { k: 'sizeof', what: this.type(), type: two === 'st' };
    }
    if (two === 'sz' || two === 'az') {
      this.pos += 2;
      return { k: 'unary', op: two === 'sz' ? 'sizeof ' : 'alignof ', arg: this.expression() };
    }
    if (two === 'sZ') {
      this.pos += 2;
      return { k: 'unary', op: 'sizeof...', arg: this.templateParam() };
    }
    if (two === 'cl') {
      this.pos += 2;
      const fn = this.expression();
      const args: N[] = [];
      while (!this.eat('E')) {
        if (this.pos >= this.s.length) throw new Fail();
        args.push(this.expression());
      }
      return { k: 'call', fn, args };
    }
    if (two === 'cv') {
      this.pos += 2;
      const type = this.type();
      const args: N[] = [];
      if (this.eat('_')) {
        while (!this.eat('E')) {
          if (this.pos >= this.s.length) throw new Fail();
          args.push(this.expression());
        }
      } else args.push(this.expression());
      return { k: 'castexpr', type, args };
    }
    if (two === 'dt' || two === 'pt') {
      this.pos += 2;
      const obj = this.expression();
      return { k: 'member', obj, op: two === 'dt' ? '.' : '->', name: this.baseUnresolvedName() };
    }
    if (this.isDigit(c)) return this.baseUnresolvedName();
    if (two === 'on') return this.baseUnresolvedName();
    const op = OPS[two];
    if (op && two !== 'st' && two !== 'nw' && two !== 'na' && two !== 'dl' && two !== 'da' && two !== 'cl') {
      this.pos += 2;
      if (op[1] === 1) {
        // Prefix forms of ++/-- are written `pp_`.
        const pre = (two === 'pp' || two === 'mm') && this.eat('_');
        return { k: 'unary', op: pre || (two !== 'pp' && two !== 'mm') ? op[0] : `${op[0]}post`, arg: this.expression() };
      }
      if (op[1] === 2) return { k: 'binary', op: op[0], l: this.expression(), r: this.expression() };
    }
    throw new Fail();
  }

  /** `sr` forms: `srT_5value`, `srN<type><level>+E<name>`, `sr<level>+E<name>` (levels are not substitutions). */
  unresolvedName(): N {
    const c = this.peek();
    // `srN...E` is read as one nested-name type, substitutions and all, as GNU does.
    if (c === 'N' || c === 'T' || c === 'D' || c === 'S') {
      const t = this.type();
      return { k: 'qual', scope: t, name: this.baseUnresolvedName() };
    }
    let n = this.simpleId();
    while (!this.eat('E')) n = { k: 'qual', scope: n, name: this.simpleId() };
    return { k: 'qual', scope: n, name: this.baseUnresolvedName() };
  }

  simpleId(): N {
    let n = this.sourceName();
    if (this.peek() === 'I') n = { k: 'tmpl', name: n, args: this.templateArgs() };
    return n;
  }

  baseUnresolvedName(): N {
    let n: N;
    if (this.eat('on')) n = this.operatorName();
    else if (this.eat('dn')) {
      const c = this.peek();
      const t = this.isDigit(c) ? this.simpleId() : this.type();
      return { k: 'dtor', name: new Printer(this.cxxfilt).name(t) };
    } else n = this.sourceName();
    if (this.peek() === 'I') n = { k: 'tmpl', name: n, args: this.templateArgs() };
    return n;
  }

  cvQuals(): string[] {
    const q: string[] = [];
    for (;;) {
      const c = this.peek();
      if (c === 'r') q.push('restrict');
      else if (c === 'V') q.push('volatile');
      else if (c === 'K') q.push('const');
      else break;
      this.pos++;
    }
    // Printed innermost first: `PrVKi` is `int const volatile restrict*`.
    return q.reverse();
  }

  type(): N {
    const c = this.peek();
    if (c === 'r' || c === 'V' || c === 'K' || (c === 'D' && 'xoOw'.includes(this.peek(1)) && this.peek(1) !== '')) {
      const q = this.cvQuals();
      const ex = this.exceptionSpec();
      // Qualifiers before F qualify `this`: the bare function type is not a substitution.
      const inner = this.peek() === 'F' ? this.functionType() : this.type();
      let t: N;
      if (inner.k === 'fn') t = { ...inner, cv: [...inner.cv, ...q], ex: inner.ex + ex };
      else if (ex) throw new Fail();
      else t = { k: 'cv', inner, q };
      this.addSub(t);
      return t;
    }
    if (BUILTIN[c] !== undefined) {
      this.pos++;
      return text(BUILTIN[c]);
    }
    let t: N;
    switch (c) {
      case 'u':
        this.pos++;
        t = this.sourceName();
        break;
      case 'F':
        t = this.functionType();
        break;
      case 'N':
      case 'Z':
        t = this.name({ cv: [], ref: '' });
        break;
      case 'A':
        t = this.arrayType();
        break;
      case 'M': {
        this.pos++;
        const cls = this.type();
        const mem = this.type();
        t = { k: 'pm', cls, mem };
        break;
      }
      case 'T':
        t = this.templateParam();
        if (this.peek() === 'I') {
          this.addSub(t);
          t = { k: 'tmpl', name: t, args: this.templateArgs() };
        }
        break;
      case 'S': {
        const c1 = this.peek(1);
        if (this.isDigit(c1) || c1 === '_' || (c1 >= 'A' && c1 <= 'Z')) {
          t = this.substitution(false);
          if (this.peek() !== 'I') return t;
          t = { k: 'tmpl', name: t, args: this.templateArgs() };
        } else {
          t = this.name({ cv: [], ref: '' });
          // A bare std abbreviation (`Ss`) is already a substitution; std::x and templates are new.
          if (t.k === 'text' && c1 !== 't') return t;
        }
        break;
      }
      case 'P':
        this.pos++;
        t = { k: 'ptr', inner: this.type() };
        break;
      case 'R':
        this.pos++;
        t = { k: 'lref', inner: this.type() };
        break;
      case 'O':
        this.pos++;
        t = { k: 'rref', inner: this.type() };
        break;
      case 'C':
        this.pos++;
        t = { k: 'suffix', inner: this.type(), s: ' _Complex' };
        break;
      case 'G':
        this.pos++;
        t = { k: 'suffix', inner: this.type(), s: ' _Imaginary' };
        break;
      case 'U': {
        this.pos++;
        const q = this.sourceName() as { s: string };
        if (this.peek() === 'I') throw new Fail();
        t = { k: 'suffix', inner: this.type(), s: ` ${q.s}` };
        break;
      }
      case 'D':
        t = this.dType();
        if (t.k === 'text') return t;
        break;
      default:
        if (this.isDigit(c)) {
          t = this.name({ cv: [], ref: '' });
          break;
        }
        throw new Fail();
    }
    this.addSub(t);
    return t;
  }

  dType(): N {
    const c = this.peek(1);
    if (BUILTIN_D[c] !== undefined) {
      this.pos += 2;
      return text(BUILTIN_D[c]);
    }
    if (c === 'F') {
      this.pos += 2;
      if (this.eat('16b')) return text('std::bfloat16_t');
      const n = this.number();
      const x = this.eat('x');
      if (!x) this.need('_');
      return text(`_Float${n}${x ? 'x' : ''}`);
    }
    if (c === 'T' || c === 't') {
      this.pos += 2;
      const expr = this.expression();
      this.need('E');
      return { k: 'decltype', expr };
    }
    if (c === 'p') {
      this.pos += 2;
      return { k: 'expand', pattern: this.type() };
    }
    if (c === 'v') {
      this.pos += 2;
      const n = this.peek() === '_' ? '' : String(this.number());
      this.need('_');
      return { k: 'suffix', inner: this.type(), s: ` __vector(${n})` };
    }
    throw new Fail();
  }

  /** Exception specifications and transaction_safe, which qualify a function type like cv does. */
  exceptionSpec(): string {
    let ex = '';
    for (;;) {
      if (this.eat('Do')) ex += ' noexcept';
      else if (this.eat('Dx')) ex += ' transaction_safe';
      else if (this.eat('DO')) {
        ex += ` noexcept(${new Printer(this.cxxfilt).expr(this.expression())})`;
        this.need('E');
      } else if (this.eat('Dw')) {
        const ts: N[] = [];
        while (!this.eat('E')) {
          if (this.pos >= this.s.length) throw new Fail();
          ts.push(this.type());
        }
        ex += ` throw(${ts.map((t) => new Printer(this.cxxfilt).type(t)).join(', ')})`;
      } else return ex;
    }
  }

  functionType(): N & { k: 'fn' } {
    this.need('F');
    this.eat('Y');
    const f = this.bareFunctionType(true);
    if (this.eat('RE')) f.ref = '&';
    else if (this.eat('OE')) f.ref = '&&';
    else this.need('E');
    return f;
  }

  arrayType(): N {
    this.need('A');
    let dim: N | null = null;
    if (this.isDigit(this.peek())) {
      const start = this.pos;
      while (this.isDigit(this.peek())) this.pos++;
      dim = text(this.s.slice(start, this.pos));
    } else if (this.peek() !== '_') dim = this.expression();
    this.need('_');
    return { k: 'arr', dim, inner: this.type() };
  }
}

export interface DemangleOptions {
  /**
   * Print as binutils' `c++filt` does (std::string spelled out as
   * std::basic_string<...>, and its libiberty's expression parentheses)
   * instead of as libstdc++'s `__cxa_demangle`, which is what bpftrace prints.
   */
  cxxfilt?: boolean;
}

/** True if `name` looks like an Itanium C++ mangled name. */
export function isMangled(name: string): boolean {
  return name.startsWith('_Z');
}

/** Demangles an Itanium ABI name (`_ZN2ns5Class6methodEi` -> `ns::Class::method(int)`); null if not one we can read. */
export function demangle(name: string, opts: DemangleOptions = {}): string | null {
  if (!name.startsWith('_Z')) return null;
  try {
    return new Parser(name, opts.cxxfilt ?? false).mangled();
  } catch (e) {
    if (e instanceof Fail || e instanceof RangeError) return null;
    throw e;
  }
}

/** The demangled name when `name` is mangled, else `name` itself. */
export function demangleOrSelf(name: string, opts: DemangleOptions = {}): string {
  return demangle(name, opts) ?? name;
}
