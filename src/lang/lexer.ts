// Hand-written lexer. It works on the UTF-8 bytes of the source (held as a
// string of char codes 0..255) so columns count bytes like bpftrace's.
//
// Locations follow bpftrace 0.17's lexer: a token's range starts where
// whitespace was last skipped, not where the token starts. Adjacent tokens
// therefore share a start (`(uint32)arg0` gives `arg0` the range of the whole
// text), and diagnostics built from them match bpftrace's to the column.
//
// Lexical errors (bad escape, invalid character, bad number) are recorded and
// lexing goes on without the broken token, as bpftrace does.
import type { Loc } from './ast.js';
import { error, fromBytes, type Diagnostic } from './diagnostics.js';
import { locOf, START, type Pos } from './loc.js';
import { TAG_WORDS, type Token, type TokKind } from './tokens.js';
import { identEnd, isBlank, isDigit, isIdentChar, isIdentStart } from '../chars.js';

const PUNCTS = [
  '<<=', '>>=',
  '==', '!=', '<=', '>=', '<<', '>>', '&&', '||', '++', '--', '+=', '-=', '*=', '%=', '&=', '|=', '^=', '->', '..',
  '{', '}', '(', ')', '[', ']', ';', ',', ':', '.', '?', '+', '-', '*', '%', '&', '|', '^', '!', '~', '=', '<', '>',
];

const INT_SUFFIX = '(?:[uU]?[lL]?[lL]|[uU])?';
const SCI = new RegExp(`([0-9](?:[0-9_]*[0-9])?)[eE]([0-9](?:[0-9_]*[0-9])?)${INT_SUFFIX}`, 'y');
const HEX = /0[xX]([0-9a-fA-F]+)/y;
const DEC = new RegExp(`([0-9](?:[0-9_]*[0-9])?)${INT_SUFFIX}`, 'y');
const U64_MAX = (1n << 64n) - 1n;

/** Characters an attach point is made of, besides quoted parts and `\x` escapes: `[A-Za-z0-9_:./*?+\-$#\[\]]`. */
const isApChar = (c: string): boolean => isIdentChar(c.charCodeAt(0)) || ':./*?+-$#[]'.includes(c);

export interface ScannedAttachPoint {
  raw: string;
  start: number;
  end: Pos;
}

export class Lexer {
  /** The source as bytes. */
  readonly src: string;
  readonly diagnostics: Diagnostic[] = [];
  private pos = 0;
  private line = 1;
  private col = 1;
  /** Where the next token's location begins (bpftrace's `loc.step()`). */
  private step: Pos = START;
  /** End of the last token or top-level item; an attach point's range starts here. */
  prevEnd: Pos = START;
  /**
   * Tokens left, after `struct`/`union`/`enum`, in which a `*`, `)` or `,`
   * ends the type name (`struct` then the name).
   */
  private tagTokensLeft = 0;

  constructor(bytes: string) {
    this.src = bytes;
  }

  here(): Pos {
    return { offset: this.pos, line: this.line, col: this.col };
  }

  atEOF(): boolean {
    return this.pos >= this.src.length;
  }

  peekChar(k = 0): string {
    return this.src[this.pos + k] ?? '';
  }

  /** The identifier starting at the current position, or ''. */
  peekWord(): string {
    return this.src.slice(this.pos, identEnd(this.src, this.pos));
  }

  /** True when the text ahead is `WORD` then optional whitespace then `ch`. */
  wordThen(word: string, ch: string): boolean {
    if (this.peekWord() !== word) return false;
    let i = this.pos + word.length;
    while (isBlank(this.src.charCodeAt(i))) i++;
    return this.src[i] === ch;
  }

  /** The range of an end-of-file token at the current position. */
  eofLoc(): Loc {
    return locOf(this.step, this.here());
  }

  private advance(n: number): void {
    this.pos += n;
    this.col += n;
  }

  /** Moves over `n` bytes that may contain line breaks. */
  private advanceText(n: number): void {
    const stop = this.pos + n;
    while (this.pos < stop) {
      const c = this.src[this.pos];
      this.pos++;
      if (c === '\n' || c === '\r') {
        this.line++;
        this.col = 1;
      } else this.col++;
    }
  }

  private newline(): void {
    this.pos++;
    this.line++;
    this.col = 1;
  }

  private err(message: string, begin: Pos = this.step): void {
    this.diagnostics.push(error(message, locOf(begin, this.here())));
  }

  /**
   * Skips whitespace and comments. Whitespace moves the start of the next
   * token's range; comments do not, except at a line break inside `/* *\/`.
   */
  skipTrivia(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t') {
        while (this.src[this.pos] === ' ' || this.src[this.pos] === '\t') this.advance(1);
        this.step = this.here();
      } else if (c === '\n' || c === '\r') {
        while (this.src[this.pos] === '\n' || this.src[this.pos] === '\r') this.newline();
        this.step = this.here();
      } else if (c === '/' && this.src[this.pos + 1] === '/') {
        // Up to the newline; a `\r` before it belongs to the comment, as in bpftrace.
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.advance(1);
      } else if (c === '/' && this.src[this.pos + 1] === '*') {
        this.blockComment();
      } else return;
    }
  }

  private blockComment(): void {
    this.advance(2);
    for (;;) {
      if (this.pos >= this.src.length) {
        this.err('end of file during comment');
        return;
      }
      const c = this.src[this.pos];
      if (c === '*' && this.src[this.pos + 1] === '/') {
        this.advance(2);
        return;
      }
      if (c === '\n' || c === '\r') {
        this.newline();
        this.step = this.here();
      } else this.advance(1);
    }
  }

  private make(kind: TokKind, text: string, start: number, extra?: Partial<Token>): Token {
    const end = this.here();
    this.prevEnd = end;
    this.tagTokensLeft = kind === 'ident' && TAG_WORDS.has(text) ? 2 : Math.max(0, this.tagTokensLeft - 1);
    return { kind, text, loc: locOf(this.step, end), start, ...extra };
  }

  /** The next token in expression/statement context. */
  next(): Token {
    for (;;) {
      this.skipTrivia();
      const start = this.pos;
      if (start >= this.src.length) return { kind: 'eof', text: '', loc: this.eofLoc(), start };
      const t = this.lexOne();
      if (t) return t;
    }
  }

  /** One token, or null after recording a lexical error for text that makes none. */
  private lexOne(): Token | null {
    const start = this.pos;
    const c = this.src[start];
    if (isDigit(this.src.charCodeAt(start))) return this.number();
    if (isIdentStart(this.src.charCodeAt(start))) {
      const w = this.peekWord();
      this.advance(w.length);
      return this.make('ident', w, start);
    }
    if (c === '"') return this.string();
    if (c === '@') {
      this.advance(1);
      const w = this.peekWord();
      this.advance(w.length);
      return this.make('map', w, start);
    }
    if (c === '$') return this.dollar();
    if (c === '#') {
      while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.advance(1);
      return this.make('cpreproc', this.src.slice(start, this.pos), start);
    }
    if (c === '/') {
      if (this.src[start + 1] === '=') {
        this.advance(2);
        return this.make('punct', '/=', start);
      }
      this.advance(1);
      return this.make(this.endsPredicate(start + 1) ? 'endpred' : 'punct', '/', start);
    }
    for (const p of PUNCTS) {
      if (this.src.startsWith(p, start)) {
        if (this.tagTokensLeft > 0 && (p === '*' || p === ')' || p === ',')) {
          // bpftrace 0.17 reads `struct X` up to this character, counts it,
          // puts it back and counts it again: the rest of the line is one
          // column further right in its diagnostics. Copied for identical output.
          this.tagTokensLeft = 0;
          this.col++;
        }
        this.advance(p.length);
        return this.make('punct', p, start);
      }
    }
    this.invalidChar();
    return null;
  }

  /** bpftrace's rule: a `/` followed by optional whitespace and `{` or `/` closes a predicate. */
  private endsPredicate(i: number): boolean {
    while (isBlank(this.src.charCodeAt(i))) i++;
    return this.src[i] === '{' || this.src[i] === '/';
  }

  private invalidChar(): void {
    // A multi-byte UTF-8 character is reported once, whole, rather than byte by byte.
    const b = this.src.charCodeAt(this.pos);
    let n = 1;
    if (b >= 0xc0) {
      const want = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      while (n < want && (this.src.charCodeAt(this.pos + n) & 0xc0) === 0x80) n++;
    }
    const ch = fromBytes(this.src.slice(this.pos, this.pos + n));
    this.advance(n);
    this.err(`invalid character '${ch}'`);
  }

  private dollar(): Token | null {
    const start = this.pos;
    const c = this.src[start + 1] ?? '';
    if (c === '#') {
      this.advance(2);
      return this.make('paramcount', '$#', start);
    }
    const digits = /[0-9]+/y;
    digits.lastIndex = start + 1;
    const d = digits.exec(this.src);
    if (d) {
      this.advance(1 + d[0].length);
      return this.make('param', '$' + d[0], start, { index: Number(d[0]) });
    }
    this.advance(1);
    const w = this.peekWord();
    if (!w) {
      this.err(`invalid character '$'`);
      return null;
    }
    this.advance(w.length);
    return this.make('var', w, start);
  }

  private number(): Token | null {
    const start = this.pos;
    const tryRe = (re: RegExp) => {
      re.lastIndex = start;
      return re.exec(this.src);
    };
    // Longest match wins, as in flex; DEC always matches at a digit.
    const sci = tryRe(SCI);
    const hex = tryRe(HEX);
    const dec = tryRe(DEC)!;
    let m = dec;
    if (hex && hex[0].length > m[0].length) m = hex;
    if (sci && sci[0].length > m[0].length) m = sci;
    const text = m[0];
    this.advance(text.length);
    const fail = (msg: string) => {
      this.err(msg);
      return null;
    };
    let value: bigint;
    if (m === sci) {
      const coeff = m[1].replace(/_/g, '');
      const exp = m[2].replace(/_/g, '');
      if (BigInt(coeff) > 9n) return fail(`Coefficient part of scientific literal must be in range (0,9), got: ${coeff}`);
      if (BigInt(exp) > 16n) return fail(`Exponent will overflow integer range: ${exp}`);
      value = BigInt(coeff) * 10n ** BigInt(exp);
    } else if (m === hex) {
      value = BigInt('0x' + m[1]);
      if (value > U64_MAX) return fail('stoull');
    } else {
      // strtoull with base 0: a leading 0 means octal.
      const digits = m[1].replace(/_/g, '');
      if (digits.length > 1 && digits[0] === '0') {
        const oct = /^[0-7]*/.exec(digits.slice(1))![0];
        if (oct.length !== digits.length - 1) return fail('Found trailing non-numeric characters');
        value = BigInt('0o' + (oct || '0'));
      } else value = BigInt(digits);
      if (value > U64_MAX) return fail('stoull');
    }
    return this.make('int', text, start, { value });
  }

  private string(): Token | null {
    const start = this.pos;
    this.advance(1);
    const out: number[] = [];
    for (;;) {
      if (this.pos >= this.src.length) {
        this.err('unterminated string');
        return null;
      }
      const c = this.src[this.pos];
      if (c === '"') {
        this.advance(1);
        return this.make('str', this.src.slice(start, this.pos), start, { bytes: Uint8Array.from(out) });
      }
      if (c === '\n') {
        // bpftrace counts the newline into the range, then starts the next line afresh.
        this.advance(1);
        this.err('unterminated string');
        this.line++;
        this.col = 1;
        this.step = this.here();
        return null;
      }
      if (c === '\\') this.escape(out);
      else {
        out.push(this.src.charCodeAt(this.pos));
        this.advance(1);
      }
    }
  }

  private escape(out: number[]): void {
    const n = this.src[this.pos + 1] ?? '';
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92 };
    if (n in simple) {
      out.push(simple[n]);
      this.advance(2);
      return;
    }
    const oct = /[0-7]{1,3}/y;
    oct.lastIndex = this.pos + 1;
    const o = oct.exec(this.src);
    if (o) {
      this.advance(1 + o[0].length);
      const v = parseInt(o[0], 8);
      if (v > 255) this.err(`octal escape sequence out of range '\\${o[0]}'`);
      else out.push(v);
      return;
    }
    if (n === 'x') {
      const hex = /[0-9a-fA-F]{1,2}/y;
      hex.lastIndex = this.pos + 2;
      const h = hex.exec(this.src);
      if (h) {
        this.advance(2 + h[0].length);
        out.push(parseInt(h[0], 16));
        return;
      }
    }
    if (n === '' || n === '\n') {
      // A backslash ending the line or the file: the string is unterminated anyway.
      out.push(92);
      this.advance(1);
      return;
    }
    this.advance(2);
    this.err(`invalid escape character '\\${fromBytes(n)}'`);
  }

  /**
   * Reads one attach point: a run of attach-point characters, `"quoted"`
   * parts and `\x` escapes. Returns null when none starts here. Like the rest
   * of a probe header it does not move the start of the next token's range.
   */
  scanAttachPoint(): ScannedAttachPoint | null {
    const start = this.pos;
    for (;;) {
      const c = this.src[this.pos] ?? '';
      if (c === '"') {
        const begin = this.here();
        this.advance(1);
        while (this.pos < this.src.length && this.src[this.pos] !== '"' && this.src[this.pos] !== '\n') {
          this.advance(this.src[this.pos] === '\\' && this.src[this.pos + 1] === '"' ? 2 : 1);
        }
        if (this.src[this.pos] !== '"') {
          this.err('unterminated string', begin);
          break;
        }
        this.advance(1);
      } else if (c === '\\' && this.pos + 1 < this.src.length && this.src[this.pos + 1] !== '\r' && this.src[this.pos + 1] !== '\n') {
        this.advance(2);
      } else if (c === '/' && this.src[this.pos + 1] === '*') {
        break;
      } else if (c !== '' && isApChar(c)) {
        this.advance(1);
      } else break;
    }
    if (this.pos === start) return null;
    const end = this.here();
    this.prevEnd = end;
    return { raw: fromBytes(this.src.slice(start, this.pos)), start, end };
  }

  /** A `#...` line at top level, with `\`-continued lines. */
  readPreprocessorLine(): { text: string; loc: Loc } {
    const start = this.pos;
    for (;;) {
      while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.advance(1);
      const body = this.src.slice(start, this.pos).replace(/\r$/, '');
      if (body.endsWith('\\') && this.pos < this.src.length) {
        this.newline();
        continue;
      }
      break;
    }
    const end = this.here();
    this.prevEnd = end;
    return { text: fromBytes(this.src.slice(start, this.pos).replace(/\r$/, '')), loc: locOf(this.step, end) };
  }

  /**
   * A C `struct`/`union`/`enum` definition at top level: up to the brace that
   * closes the first one, plus a `;` right after it; or up to a `;` before
   * any brace (a declaration). Returns null, with the error recorded, at end
   * of file.
   */
  readCDefinition(): { text: string; loc: Loc } | null {
    const start = this.pos;
    let depth = 0;
    for (;;) {
      if (this.pos >= this.src.length) return null;
      const c = this.src[this.pos];
      if (c === '/' && this.src[this.pos + 1] === '/') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.advance(1);
        continue;
      }
      if (c === '/' && this.src[this.pos + 1] === '*') {
        const close = this.src.indexOf('*/', this.pos + 2);
        if (close < 0) return null;
        this.advanceText(close + 2 - this.pos);
        continue;
      }
      this.advanceText(1);
      if (c === '{') depth++;
      else if (c === '}' && depth > 0 && --depth === 0) break;
      else if (c === ';' && depth === 0) break;
    }
    let text = this.src.slice(start, this.pos);
    if (!text.endsWith(';')) {
      let i = this.pos;
      while (this.src[i] === ' ' || this.src[i] === '\t') i++;
      if (this.src[i] === ';') this.advance(i + 1 - this.pos);
      text = text + ';';
    }
    const end = this.here();
    this.prevEnd = end;
    return { text: fromBytes(text), loc: locOf(this.step, end) };
  }
}
