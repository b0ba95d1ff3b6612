// Errors and warnings reported against the source, printed exactly the way
// bpftrace 0.17 prints them:
//
//   stdin:1:9-10: ERROR: syntax error, unexpected }
//   BEGIN { }}
//           ~
//
// A range spanning lines prints only `file:L1-L2: ERROR: msg`. Tabs in the
// echoed line become four spaces and four marker characters. Columns count
// bytes. When the line is empty or does not exist only the first line is
// printed.
import type { Loc } from './ast.js';
import { isAscii } from '../chars.js';

export interface Diagnostic {
  severity: 'error' | 'warning';
  message: string;
  loc: Loc | null;
  /** A `HINT: ...` line printed after the source excerpt (what to use instead). */
  hint?: string;
}

export class CompileError extends Error {
  readonly diagnostics: Diagnostic[];
  readonly file: string;
  readonly source: string;

  constructor(diagnostics: Diagnostic[], file: string, source: string) {
    super(formatDiagnostics(diagnostics, file, source));
    this.name = 'CompileError';
    this.diagnostics = diagnostics;
    this.file = file;
    this.source = source;
  }
}

export function error(message: string, loc: Loc | null): Diagnostic {
  return { severity: 'error', message, loc };
}

export function warning(message: string, loc: Loc | null): Diagnostic {
  return { severity: 'warning', message, loc };
}

export function formatDiagnostics(ds: readonly Diagnostic[], file: string, source: string): string {
  const lines = ds.length ? sourceLines(source) : [];
  return ds.map((d) => formatWith(d, file, lines)).join('');
}

export function formatDiagnostic(d: Diagnostic, file: string, source: string): string {
  return formatWith(d, file, sourceLines(source));
}

function formatWith(d: Diagnostic, file: string, lines: readonly string[]): string {
  const text = formatBody(d, file, lines);
  if (!d.hint) return text;
  return text + d.hint.split('\n').map((h) => (h.startsWith('HINT:') ? h : `HINT: ${h}`)).join('\n') + '\n';
}

function formatBody(d: Diagnostic, file: string, lines: readonly string[]): string {
  const label = d.severity === 'error' ? 'ERROR' : 'WARNING';
  const l = d.loc;
  if (!l) return `${label}: ${d.message}\n`;
  if (l.line < l.endLine) return `${file}:${l.line}-${l.endLine}: ${label}: ${d.message}\n`;
  let out = `${file}:${l.line}:${l.col}-${l.endCol}: ${label}: ${d.message}\n`;
  const src = lines[l.line - 1] ?? '';
  if (src === '') return out;
  let echo = '';
  let marks = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    echo += c === '\t' ? '    ' : c;
    if (i < l.endCol - 1) {
      const m = i < l.col - 1 ? ' ' : '~';
      marks += c === '\t' ? m.repeat(4) : m;
    }
  }
  out += fromBytes(echo) + '\n' + marks + '\n';
  return out;
}

/**
 * The source as bytes, one line per element. bpftrace counts `\r` and `\n`
 * each as a line break (so CRLF counts two), and so must the echo.
 */
function sourceLines(source: string): string[] {
  return toBytes(source).split(/[\r\n]/);
}

/** UTF-8 bytes of `s` as a string of char codes 0..255: one char per column. */
export function toBytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

export function fromBytes(b: string): string {
  // Pure ASCII needs no round trip, and most sources are ASCII.
  return isAscii(b) ? b : Buffer.from(b, 'latin1').toString('utf8');
}
