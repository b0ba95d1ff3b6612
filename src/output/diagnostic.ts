// Errors and warnings in bpftrace's layout:
//   stdin:1:17-21: ERROR: Unknown function: blah
//   BEGIN { @x = 1; blah(); }
//                   ~~~~
// Tabs in the echoed line become four spaces (the underline follows), and a
// range over several lines names them ("file:4-5:") without echoing source.

export type DiagnosticLevel = 'ERROR' | 'WARNING';

/** 1-based lines and columns; `endColumn` is one past the last character. */
export interface SourceRange { line: number; column: number; endLine?: number; endColumn: number }

export interface Diagnostic {
  level: DiagnosticLevel;
  message: string;
  /** "stdin" for -e programs, else the script's path as given. */
  file?: string;
  range?: SourceRange;
  /** The program text, to echo the offending line. */
  source?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const head = `${d.level}: ${d.message}\n`;
  const r = d.range;
  if (!r) return head;
  const file = d.file ?? 'stdin';
  if (r.endLine !== undefined && r.endLine !== r.line) return `${file}:${r.line}-${r.endLine}: ${head}`;
  let out = `${file}:${r.line}:${r.column}-${r.endColumn}: ${head}`;
  const line = d.source?.split('\n')[r.line - 1];
  if (line === undefined) return out;
  const prefix = line.slice(0, Math.max(0, r.column - 1)).replace(/[^\t]/g, ' ').replaceAll('\t', '    ');
  out += `${line.replaceAll('\t', '    ')}\n${prefix}${'~'.repeat(Math.max(0, r.endColumn - r.column))}\n`;
  return out;
}

/** The warning bpftrace prints when a helper fails at run time (needs -k). */
export function helperErrorMessage(helper: string, retcode: number, strerror: (errno: number) => string): string {
  return `Failed to ${helper}: ${retcode < 0 ? `${strerror(-retcode)} (${retcode})` : retcode}`;
}
