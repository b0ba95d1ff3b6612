// Tokens, and the names syntax errors give them. The names are bpftrace
// 0.17's (bison's token aliases): `unexpected builtin`, `unexpected call`,
// `unexpected ","`..., so messages read the same as bpftrace's.
import type { Loc } from './ast.js';

export type TokKind =
  | 'eof'
  | 'int'
  | 'str'
  | 'ident'
  | 'map'
  | 'var'
  | 'param'
  | 'paramcount'
  | 'punct'
  /** A `/` followed (after optional whitespace) by `{` or `/`: the end of a predicate. */
  | 'endpred'
  | 'cpreproc';

export interface Token {
  kind: TokKind;
  /** Identifier name, map/var name without sigil, punctuator, or the literal's source text. */
  text: string;
  /**
   * bpftrace's location for the token: it begins where the lexer last skipped
   * whitespace, so `f(1,)` gives `)` the range of `f(1,)`. Every node location
   * is built from these, which is what makes our ranges match bpftrace's.
   */
  loc: Loc;
  /** Byte offset where the token's own text starts. */
  start: number;
  /** `int`: the value, unsigned 64-bit. */
  value?: bigint;
  /** `str`: the bytes after escape processing. */
  bytes?: Uint8Array;
  /** `param`: N of `$N`. */
  index?: number;
}

const range = (p: string) => Array.from({ length: 10 }, (_, i) => p + i);

/** Identifiers bpftrace 0.17 lexes as builtin variables. */
export const BUILTINS_017: ReadonlySet<string> = new Set([
  ...'pid tid uid gid nsecs elapsed numaid cpu curtask rand ctx comm retval func probe username cgroup cpid args'.split(' '),
  ...range('arg'),
  ...range('sarg'),
]);

/** Builtins that may also be called: `kstack`, `kstack(perf, 3)`. */
export const CALL_BUILTINS: ReadonlySet<string> = new Set(['kstack', 'ustack']);

/** Function names bpftrace 0.17 lexes as calls; such a name must be followed by `(`. */
export const CALLS_017: ReadonlySet<string> = new Set(
  ('avg buf cat cgroupid clear count delete exit hist join kaddr kptr ksym lhist macaddr max min ntop override ' +
    'print printf cgroup_path reg signal sizeof stats str strftime strncmp strcontains sum system time uaddr uptr ' +
    'usym zero path unwatch bswap skboutput pton strerror debugf').split(' '),
);

/** Reserved words; a syntax error names them by themselves. */
export const KEYWORDS: ReadonlySet<string> = new Set(['if', 'else', 'unroll', 'while', 'for', 'return', 'break', 'continue']);

/** Words that start a C type in a cast or sizeof. */
export const TYPE_WORDS: ReadonlySet<string> = new Set([
  'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
  'bool', 'string', 'void', 'char', 'short', 'int', 'long', 'unsigned', 'signed',
]);

/** Words that may follow the first in a multi-word C integer type (`unsigned long long`). */
export const C_INT_WORDS: ReadonlySet<string> = new Set(['unsigned', 'signed', 'char', 'short', 'int', 'long']);

export const TAG_WORDS: ReadonlySet<string> = new Set(['struct', 'union', 'enum']);

/** How bpftrace 0.17 names a token in `syntax error, unexpected X`. */
export function describe(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of file';
    case 'int': return 'integer';
    case 'str': return 'string';
    case 'map': return 'map';
    case 'var': return 'variable';
    case 'param': return 'positional parameter';
    case 'paramcount': return '$#';
    case 'endpred': return 'end predicate';
    case 'cpreproc': return 'preprocessor directive';
    case 'punct': return quoteName(t.text);
    case 'ident':
      if (KEYWORDS.has(t.text)) return t.text;
      if (BUILTINS_017.has(t.text)) return 'builtin';
      if (CALL_BUILTINS.has(t.text)) return 'call_builtin';
      if (CALLS_017.has(t.text)) return 'call';
      if (TAG_WORDS.has(t.text)) return 'struct definition';
      return 'identifier';
  }
}

/** Bison keeps the quotes of a token alias that contains a comma. */
export function quoteName(name: string): string {
  return name === ',' ? '","' : name;
}

export function isPunct(t: Token, text: string): boolean {
  return t.kind === 'punct' && t.text === text;
}

export function isWord(t: Token, text: string): boolean {
  return t.kind === 'ident' && t.text === text;
}

export const ASSIGN_OPS: ReadonlySet<string> = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=']);
