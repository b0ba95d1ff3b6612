// What every tool shares: argparse-like option parsing with BCC's usage and
// help layout, the program template, and small generators for the pieces of
// bpftrace-language code that options turn into (predicates, constants,
// fixed-width columns). Options never filter in user space: they become
// constants and predicates in the program the kernel runs.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface OptSpec {
  /** Property name in the parsed result. */
  key: string;
  short?: string;
  long?: string;
  /** Metavariable for options that take a value (`-p PID`). */
  arg?: string;
  /** `int` values are checked; `list` options may repeat. */
  type?: 'int' | 'string' | 'list';
  help: string;
  /** argparse's `choices`, checked at parse time. */
  choices?: string[];
}

export interface PosSpec {
  key: string;
  help: string;
  type?: 'int';
}

export interface ToolSpec {
  name: string;
  description: string;
  options: OptSpec[];
  positionals?: PosSpec[];
  /** [command line after the tool name, comment]. */
  examples: [string, string][];
}

export type OptValue = boolean | string | number | string[] | undefined;
export type Parsed = Record<string, OptValue> & { program?: boolean; help?: boolean };

export class ToolUsageError extends Error {
  constructor(message: string, readonly code = 2) {
    super(message);
  }
}

const HELP: OptSpec = { key: 'help', short: '-h', long: '--help', help: 'show this help message and exit' };
const PROGRAM: OptSpec = { key: 'program', long: '--program', help: 'print the bpftrace-language program this run would use, and exit' };

function allOptions(spec: ToolSpec): OptSpec[] {
  return [HELP, ...spec.options, PROGRAM];
}

function metavar(o: OptSpec): string {
  return o.arg ?? o.key.toUpperCase();
}

/** argparse's one-line synopsis, wrapped the way argparse wraps it. */
export function usageLine(spec: ToolSpec): string {
  const parts = allOptions(spec).map((o) => `[${o.short ?? o.long}${o.arg ? ` ${metavar(o)}` : ''}]`);
  for (const p of spec.positionals ?? []) parts.push(`[${p.key}]`);
  const lead = `usage: bpfkit ${spec.name} `;
  const lines: string[] = [];
  let cur = lead;
  for (const p of parts) {
    if (cur.length + p.length > 78 && cur.length > lead.length) {
      lines.push(cur.trimEnd());
      cur = ' '.repeat(lead.length);
    }
    cur += p + ' ';
  }
  lines.push(cur.trimEnd());
  return lines.join('\n');
}

/** BCC's -h output: argparse's layout with the examples as its epilog. */
export function helpText(spec: ToolSpec): string {
  const out: string[] = [usageLine(spec), '', spec.description, ''];
  const row = (inv: string, help: string) => {
    const head = `  ${inv}`;
    const text = wrap(help, 79 - 24);
    if (head.length <= 22) out.push(head.padEnd(24) + text[0]);
    else out.push(head, ' '.repeat(24) + text[0]);
    for (const l of text.slice(1)) out.push(' '.repeat(24) + l);
  };
  if (spec.positionals?.length) {
    out.push('positional arguments:');
    for (const p of spec.positionals) row(p.key, p.help);
    out.push('');
  }
  out.push('optional arguments:');
  for (const o of allOptions(spec)) {
    const names = [o.short, o.long].filter((x): x is string => !!x).map((n) => (o.arg ? `${n} ${metavar(o)}` : n));
    row(names.join(', '), o.help);
  }
  out.push('', 'examples:');
  const w = Math.max(...spec.examples.map(([c]) => `bpfkit ${spec.name} ${c}`.trimEnd().length));
  for (const [c, comment] of spec.examples) out.push(`    ${`bpfkit ${spec.name} ${c}`.trimEnd().padEnd(w)}   # ${comment}`);
  return out.join('\n') + '\n';
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const w of text.split(' ')) {
    if (cur && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  lines.push(cur);
  return lines;
}

/** Parses argv like argparse: combined short flags (-mT), attached values (-p123, --pid=123), positionals. */
export function parseOptions(spec: ToolSpec, argv: string[]): Parsed {
  const opts = allOptions(spec);
  const out: Parsed = {};
  const pos: string[] = [];
  const fail = (msg: string): never => {
    throw new ToolUsageError(`${usageLine(spec)}\nbpfkit ${spec.name}: error: ${msg}`);
  };
  const set = (o: OptSpec, name: string, v: string | undefined) => {
    if (!o.arg) {
      out[o.key] = true;
      return;
    }
    if (v === undefined) fail(`argument ${[o.short, o.long].filter(Boolean).join('/')}: expected one argument`);
    const val = v as string;
    if (o.choices && !o.choices.includes(val)) fail(`argument ${name}: invalid choice: '${val}' (choose from ${o.choices.map((c) => `'${c}'`).join(', ')})`);
    if (o.type === 'int') {
      if (!/^-?\d+$/.test(val)) fail(`argument ${[o.short, o.long].filter(Boolean).join('/')}: invalid int value: '${val}'`);
      out[o.key] = Number(val);
    } else if (o.type === 'list') {
      out[o.key] = [...((out[o.key] as string[] | undefined) ?? []), val];
    } else out[o.key] = val;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      pos.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      const o = opts.find((x) => x.long === name);
      if (!o) fail(`unrecognized arguments: ${a}`);
      set(o!, name, eq >= 0 ? a.slice(eq + 1) : o!.arg ? argv[++i] : undefined);
      continue;
    }
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      // A run of short flags; the first one taking a value eats the rest (or the next word).
      for (let j = 1; j < a.length; j++) {
        const o = opts.find((x) => x.short === `-${a[j]}`);
        if (!o) fail(`unrecognized arguments: ${a}`);
        if (o!.arg) {
          set(o!, `-${a[j]}`, j + 1 < a.length ? a.slice(j + 1) : argv[++i]);
          break;
        }
        set(o!, `-${a[j]}`, undefined);
      }
      continue;
    }
    pos.push(a);
  }
  const ps = spec.positionals ?? [];
  if (pos.length > ps.length) fail(`unrecognized arguments: ${pos.slice(ps.length).join(' ')}`);
  pos.forEach((v, i) => {
    if (ps[i].type === 'int' && !/^\d+$/.test(v)) fail(`argument ${ps[i].key}: invalid int value: '${v}'`);
    out[ps[i].key] = ps[i].type === 'int' ? Number(v) : v;
  });
  return out;
}

// ---- the program template -------------------------------------------------

const here = import.meta.dirname;

/** Reads NAME.bt: next to the bundle (dist/tools), or from src/tools when running unbundled. */
export function readTemplate(name: string): string {
  const candidates = [join(here, 'tools', `${name}.bt`), join(here, `${name}.bt`), join(here, '../../../src/tools', `${name}.bt`), join(here, '../../src/tools', `${name}.bt`)];
  for (const p of candidates) if (existsSync(p)) return readFileSync(p, 'utf8');
  throw new Error(`tool program ${name}.bt not found (looked in ${candidates.join(', ')})`);
}

/**
 * Fills a template. `{{KEY}}` is replaced by vars[KEY]; a line holding only
 * `{{KEY}}` disappears when the value is empty, so optional blocks leave no
 * blank lines behind (runs of blank lines are cut to one).
 */
export function render(template: string, vars: Record<string, string | number>): string {
  const lines = template.split('\n');
  const out: string[] = [];
  for (const line of lines) {
    const only = /^\s*\{\{(\w+)\}\}\s*$/.exec(line);
    if (only) {
      const v = vars[only[1]];
      if (v === undefined) throw new Error(`template: no value for ${only[1]}`);
      if (String(v) === '') continue;
      const indent = /^\s*/.exec(line)![0];
      out.push(...String(v).split('\n').map((l) => (l ? indent + l : l)));
      continue;
    }
    out.push(line.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
      const v = vars[k];
      if (v === undefined) throw new Error(`template: no value for ${k}`);
      return String(v);
    }));
  }
  // A dropped block leaves its blank separators: keep one.
  return out.filter((l, i) => !(l.trim() === '' && i > 0 && out[i - 1].trim() === '')).join('\n');
}

// ---- code generators --------------------------------------------------------

/** A bpftrace string literal. */
export function strLit(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

/** `/a && b/` from the conditions that apply, or '' when none does. */
export function predicate(conds: (string | false | undefined)[]): string {
  const c = conds.filter((x): x is string => !!x);
  return c.length ? `/${c.join(' && ')}/` : '';
}

/**
 * printf pieces for a left-justified fixed-point seconds column like
 * Python's "%-W.Pf": `pre` stores the value once in `v` (in units of
 * 10^-P s, from an expression in nanoseconds), then the integer part, the
 * fraction and a padding string chosen by the number of digits.
 */
export function secondsColumn(v: string, nsExpr: string, width: number, decimals: 3 | 6 | 9): { pre: string; fmt: string; args: string[] } {
  const div = 10 ** (9 - decimals);
  const unit = 10n ** BigInt(decimals);
  let pad = '""';
  for (let digits = width - decimals - 1; digits >= 1; digits--) {
    const spaces = width - (digits + 1 + decimals);
    if (spaces > 0) pad = `${v} < ${10n ** BigInt(digits) * unit} ? "${' '.repeat(spaces)}" : ${pad}`;
  }
  return { pre: `${v} = ${div === 1 ? nsExpr : `(${nsExpr}) / ${div}`};`, fmt: `%d.%0${decimals}d%s`, args: [`${v} / ${unit}`, `${v} % ${unit}`, `(${pad})`] };
}

/**
 * An output line built column by column, as BCC's tools grow theirs with
 * options: the header text, the printf conversions and arguments, and the
 * statements (`pre`) that compute values before the printf.
 */
export class Columns {
  header = '';
  readonly pre: string[] = [];
  readonly fmt: string[] = [];
  readonly args: string[] = [];

  /** A column with its title padded to `width` (the title may already be laid out: width 0). */
  add(title: string, width: number, fmt: string, ...args: string[]): this {
    this.header += title.padEnd(width);
    this.fmt.push(fmt);
    this.args.push(...args);
    return this;
  }

  /** A seconds column (secondsColumn) of `nsExpr` nanoseconds, kept in `v`, after statements `pre`. */
  seconds(title: string, width: number, v: string, nsExpr: string, decimals: 3 | 6 | 9, ...pre: string[]): this {
    const c = secondsColumn(v, nsExpr, width, decimals);
    this.pre.push(...pre, c.pre);
    return this.add(title, width, c.fmt, ...c.args);
  }

  /** The printf statement for the columns. */
  printf(): string {
    return `printf("${this.fmt.join('')}\\n",\n\t${this.args.join(',\n\t')});`;
  }
}

/** A uid from a number or a user name (/etc/passwd), as BCC's -u accepts. */
export function resolveUid(user: string): number {
  if (/^\d+$/.test(user)) return Number(user);
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === user && /^\d+$/.test(f[2] ?? '')) return Number(f[2]);
    }
  } catch {
    /* no passwd file: fall through */
  }
  throw new ToolUsageError(`'${user}' is not valid UID or user entry`);
}
