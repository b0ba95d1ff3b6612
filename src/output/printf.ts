// printf(), system() and cat() format strings. parseFormat() is for the
// compiler (how many arguments, of which kind); formatPrintf() renders the
// text in user space once the event arrives.
//
// bpftrace 0.17 splits the format after each conversion and hands every piece
// ending in a conversion to snprintf(); the text after the last conversion is
// written as-is. So "%%" turns into "%" before a conversion but stays "%%"
// after the last one (or in a format with none). That is reproduced here.
// Beyond 0.17 we also accept the flags "+", "#" and %i, as later bpftrace
// does; 0.17 rejects those formats. Not " ": the second "%" of "%% done"
// would read as "% d".
import { byteChar, decodeBytes, encodeOutput } from './bytes.js';
import { bufText, valueText } from './scalars.js';
import type { Symbolizer, Value } from './value.js';
import { isDigit } from '../chars.js';

export type LengthModifier = '' | 'hh' | 'h' | 'l' | 'll' | 'j' | 'z' | 't';
export type ConversionChar = 'd' | 'i' | 'u' | 'x' | 'X' | 'o' | 'p' | 'c' | 's' | 'r' | 'rx' | 'rh';
/** The bpftrace type a conversion accepts, named as its error messages name it. */
export type ExpectedKind = 'integer' | 'string' | 'buffer';

export interface Conversion {
  /** The conversion as written, e.g. "%-8lu". */
  text: string;
  /** Offset of the "%" in the format string. */
  start: number;
  end: number;
  flags: { left: boolean; plus: boolean; space: boolean; alt: boolean; zero: boolean };
  width?: number;
  precision?: number;
  length: LengthModifier;
  conv: ConversionChar;
  expects: ExpectedKind;
}

export interface FormatSpec {
  fmt: string;
  conversions: Conversion[];
}

const LENGTHS = ['hh', 'h', 'll', 'l', 'j', 'z', 't', ''];
const at = (s: string, i: number, set: string): boolean => i < s.length && set.includes(s[i]);

/**
 * Matches one conversion exactly at `pos`, or returns undefined:
 * /%([-+#0]*)(\d+)?(?:\.(\d*))?(?:(hh|h|ll|l|j|z|t)?([diuxXop])|(rx|rh|[csr]))/
 * spelled out (compiling the expression cost a quarter of a millisecond of
 * every start).
 */
function matchAt(fmt: string, pos: number): Conversion | undefined {
  if (fmt[pos] !== '%') return undefined;
  let i = pos + 1;
  while (at(fmt, i, '-+#0')) i++;
  const flags = fmt.slice(pos + 1, i);
  let j = i;
  while (isDigit(fmt.charCodeAt(j))) j++;
  const width = j > i ? fmt.slice(i, j) : undefined;
  i = j;
  let precision: string | undefined;
  if (fmt[i] === '.') {
    j = i + 1;
    while (isDigit(fmt.charCodeAt(j))) j++;
    precision = fmt.slice(i + 1, j);
    i = j;
  }
  let length = '';
  let conv: ConversionChar | undefined;
  for (const l of LENGTHS) {
    if (fmt.startsWith(l, i) && at(fmt, i + l.length, 'diuxXop')) {
      length = l;
      conv = fmt[i + l.length] as ConversionChar;
      break;
    }
  }
  if (!conv) {
    if (fmt.startsWith('rx', i) || fmt.startsWith('rh', i)) conv = fmt.slice(i, i + 2) as ConversionChar;
    else if (at(fmt, i, 'csr')) conv = fmt[i] as ConversionChar;
    else return undefined;
  }
  const text = fmt.slice(pos, i + length.length + conv.length);
  const expects: ExpectedKind = conv === 's' ? 'string' : conv[0] === 'r' ? 'buffer' : 'integer';
  return {
    text, start: pos, end: pos + text.length,
    flags: { left: flags.includes('-'), plus: flags.includes('+'), space: flags.includes(' '), alt: flags.includes('#'), zero: flags.includes('0') },
    width: width === undefined ? undefined : Number(width),
    precision: precision === undefined ? undefined : Number(precision || '0'),
    length: length as LengthModifier, conv, expects,
  };
}

/**
 * Finds the conversions of a format string. Like bpftrace, every "%" is a
 * candidate, including the second one of "%%": "%%d" holds a conversion.
 */
export function parseFormat(fmt: string): FormatSpec {
  const conversions: Conversion[] = [];
  for (let i = fmt.indexOf('%'); i >= 0 && i < fmt.length; i = fmt.indexOf('%', i)) {
    const c = matchAt(fmt, i);
    if (c) {
      conversions.push(c);
      i = c.end;
    } else {
      i++;
    }
  }
  return { fmt, conversions };
}

// bpftrace formats these with %s: they are strings to printf.
const STRING_LIKE = new Set(['string', 'ksym', 'usym', 'probe', 'username', 'kstack', 'ustack', 'inet', 'timestamp', 'mac_address', 'cgroup_path', 'strerror']);

/**
 * Checks argument types against a format, returning bpftrace's message for
 * the first problem or undefined. `argTypes` are bpftrace type names
 * ("integer", "string", "buffer", "tuple", "record", "array", "hist", ...);
 * symbolic types ("ksym", "kstack", "inet"...) count as strings and
 * "pointer" as an integer. `func` names the builtin in the message.
 */
export function checkFormatArgs(spec: FormatSpec, argTypes: string[], func = 'printf'): string | undefined {
  const want = spec.conversions.length;
  if (argTypes.length < want) return `${func}: Not enough arguments for format string (${argTypes.length} supplied, ${want} expected)`;
  if (argTypes.length > want) return `${func}: Too many arguments for format string (${argTypes.length} supplied, ${want} expected)`;
  for (let i = 0; i < want; i++) {
    const c = spec.conversions[i];
    let got = argTypes[i];
    if (STRING_LIKE.has(got)) got = 'string';
    else if (got === 'pointer' || got === 'bool') got = 'integer';
    if (got !== c.expects) {
      return `${func}: %${c.length}${c.conv} specifier expects a value of type ${c.expects} (${got} supplied)`;
    }
  }
  return undefined;
}

export interface PrintfOptions { symbolizer?: Symbolizer }

/**
 * Renders a format with its argument values (one per conversion, in order).
 * Integers are given as their full value (sign- or zero-extended); they are
 * cast to the length modifier's C type first, as snprintf would see them.
 */
export function formatPrintf(spec: FormatSpec | string, args: Value[], opts: PrintfOptions = {}): string {
  const c = compiled(typeof spec === 'string' ? spec : spec.fmt);
  let out = '';
  for (let i = 0; i < c.pieces.length; i++) {
    const p = c.pieces[i];
    const arg = args[i];
    if (arg === undefined) out += cFormat(p.raw, arg, opts);
    else out += p.conv ? p.before + formatConversion(p.conv, arg, opts) + p.after : p.before;
  }
  return out + c.tail;
}

/** One snprintf() piece with its fixed text worked out: what comes before and after its conversion. */
interface Piece {
  raw: string;
  before: string;
  conv?: Conversion;
  after: string;
}

// Events of one printf() share its format: parsing it once instead of per
// event is most of what formatting a line costs.
const compiledFormats = new Map<string, { pieces: Piece[]; tail: string }>();

function compiled(fmt: string): { pieces: Piece[]; tail: string } {
  let c = compiledFormats.get(fmt);
  if (c) return c;
  const s = parseFormat(fmt);
  const pieces: Piece[] = [];
  let last = 0;
  for (const conv of s.conversions) {
    pieces.push(compilePiece(fmt.slice(last, conv.end)));
    last = conv.end;
  }
  c = { pieces, tail: fmt.slice(last) };
  if (compiledFormats.size >= 1024) compiledFormats.clear();
  compiledFormats.set(fmt, c);
  return c;
}

/** cFormat's walk over a piece, done once, for an argument that is present. */
function compilePiece(raw: string): Piece {
  const nul = raw.indexOf('\0');
  const piece = nul >= 0 ? raw.slice(0, nul) : raw;
  let out = '';
  let conv: Conversion | undefined;
  let before = '';
  for (let i = 0; i < piece.length;) {
    const ch = piece[i];
    if (ch !== '%') {
      out += ch;
      i++;
      continue;
    }
    if (piece[i + 1] === '%') {
      out += '%';
      i += 2;
      continue;
    }
    const c = matchAt(piece, i);
    if (!c || conv) {
      out += c ? c.text : '%';
      i = c ? c.end : i + 1;
      continue;
    }
    conv = c;
    before = out;
    out = '';
    i = c.end;
  }
  return conv ? { raw, before, conv, after: out } : { raw, before: out, after: '' };
}

/** snprintf() of one piece holding (at most) one argument. */
function cFormat(piece: string, arg: Value | undefined, opts: PrintfOptions): string {
  const nul = piece.indexOf('\0');
  if (nul >= 0) piece = piece.slice(0, nul);
  let out = '';
  let used = false;
  for (let i = 0; i < piece.length;) {
    const ch = piece[i];
    if (ch !== '%') {
      out += ch;
      i++;
      continue;
    }
    if (piece[i + 1] === '%') {
      out += '%';
      i += 2;
      continue;
    }
    const c = matchAt(piece, i);
    if (!c || used || arg === undefined) {
      out += c ? c.text : '%';
      i = c ? c.end : i + 1;
      continue;
    }
    out += formatConversion(c, arg, opts);
    used = true;
    i = c.end;
  }
  return out;
}

const INT_BITS: Record<LengthModifier, number> = { hh: 8, h: 16, '': 32, l: 64, ll: 64, j: 64, z: 64, t: 64 };

function toBigInt(v: Value): bigint {
  switch (v.kind) {
    case 'int': case 'ptr': return v.value;
    case 'bool': return v.value ? 1n : 0n;
    case 'ksym': case 'usym': return v.addr;
    case 'strerror': return BigInt(v.errno);
    default: return 0n;
  }
}

/** One conversion with C semantics. */
export function formatConversion(c: Conversion, arg: Value, opts: PrintfOptions = {}): string {
  switch (c.conv) {
    case 's': {
      const text = arg.kind === 'str' ? arg.value : valueText(arg, { inKey: false, symbolizer: opts.symbolizer });
      // Width and precision count bytes, as C does.
      let bytes = encodeOutput(text);
      if (c.precision !== undefined && bytes.length > c.precision) bytes = bytes.subarray(0, c.precision);
      return padField(decodeBytes(bytes), bytes.length, c, ' ');
    }
    case 'r': case 'rx': case 'rh': {
      // 0.17 hands "%10r" to snprintf, which does not know %r and echoes it.
      if (c.text !== `%${c.conv}`) return c.text;
      return arg.kind === 'buf' ? bufText(arg.bytes, c.conv) : valueText(arg, { inKey: false });
    }
    case 'c': {
      const ch = byteChar(Number(BigInt.asUintN(8, toBigInt(arg))));
      return padField(ch, 1, c, ' ');
    }
    case 'p': {
      const v = BigInt.asUintN(64, toBigInt(arg));
      if (v === 0n) return padField('(nil)', 5, c, ' ');
      const digits = v.toString(16).padStart(c.precision ?? 0, '0');
      return integerField(digits, '0x', c.flags.plus ? '+' : c.flags.space ? ' ' : '', c);
    }
    default: {
      const bits = INT_BITS[c.length];
      const raw = toBigInt(arg);
      const signed = c.conv === 'd' || c.conv === 'i';
      const v = signed ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw);
      const mag = v < 0n ? -v : v;
      const base = c.conv === 'o' ? 8 : c.conv === 'x' || c.conv === 'X' ? 16 : 10;
      let digits = c.precision === 0 && v === 0n ? '' : mag.toString(base);
      if (c.conv === 'X') digits = digits.toUpperCase();
      if (c.precision !== undefined) digits = digits.padStart(c.precision, '0');
      let prefix = '';
      if (c.flags.alt && c.conv === 'o' && !digits.startsWith('0')) digits = `0${digits}`;
      if (c.flags.alt && v !== 0n && (c.conv === 'x' || c.conv === 'X')) prefix = c.conv === 'x' ? '0x' : '0X';
      const sign = !signed ? '' : v < 0n ? '-' : c.flags.plus ? '+' : c.flags.space ? ' ' : '';
      return integerField(digits, prefix, sign, c);
    }
  }
}

function integerField(digits: string, prefix: string, sign: string, c: Conversion): string {
  const body = sign + prefix + digits;
  const width = c.width ?? 0;
  if (body.length >= width) return body;
  if (c.flags.left) return body.padEnd(width, ' ');
  // "0" pads between the sign/prefix and the digits, unless a precision is given.
  if (c.flags.zero && c.precision === undefined) return sign + prefix + digits.padStart(width - sign.length - prefix.length, '0');
  return body.padStart(width, ' ');
}

function padField(text: string, byteLen: number, c: Conversion, fill: string): string {
  const width = c.width ?? 0;
  if (byteLen >= width) return text;
  const padding = fill.repeat(width - byteLen);
  return c.flags.left ? text + padding : padding + text;
}
