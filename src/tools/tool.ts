// The shape of one ready-made tool: its options (BCC's, for the tools BCC
// has), the program they produce, and whether this kernel can run it.
import { existsSync } from 'node:fs';
import { hasFentry, hasKprobes, hasUprobes } from '../bpf/features.js';
import { eventFormat } from '../probes/tracefs.js';
import { findLibrary } from '../probes/uprobe.js';
import { openElf } from '../symbols/elf.js';
import { readTemplate, render, type ToolSpec, type Parsed } from './options.js';
import type { RunHooks } from './runner.js';

export interface Tool extends ToolSpec {
  /** Why this kernel cannot run the tool, or undefined when it can. */
  unavailable?(): string | undefined;
  /** The bpftrace-language program for these options. */
  program(o: Parsed): string;
  hooks?(o: Parsed): RunHooks;
}

/** True when tracepoint CATEGORY:NAME exists here. */
export function hasTracepoint(category: string, name: string): boolean {
  try {
    eventFormat(category, name);
    return true;
  } catch {
    return false;
  }
}

function safe(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}

/** The reason kprobe-based programs cannot run, or undefined when they can. */
export function kprobeReason(what: string): string | undefined {
  if (safe(hasKprobes) || safe(hasFentry)) return undefined;
  return `needs kprobes or fentry on ${what}, and this kernel has neither (no kprobe PMU, fentry refused); no tracepoint carries this event`;
}

export function uprobeReason(): string | undefined {
  return safe(hasUprobes) ? undefined : 'needs uprobes, and this kernel has no uprobe PMU';
}

export function fileReason(path: string, what: string): string | undefined {
  return existsSync(path) ? undefined : `needs ${what} (${path} not found)`;
}

/** Options every classic (bpftrace tools/) tool shares: none beyond -h and --program. */
export interface ClassicSpec {
  name: string;
  description: string;
  examples?: [string, string][];
  unavailable?(): string | undefined;
  /** Template values for NAME.bt, when it has any. */
  vars?(): Record<string, string | number>;
}

/**
 * A tool from bpftrace's tools/ directory: its program, its output as
 * bpftrace prints it (maps left at exit included), no options.
 */
export function classicTool(spec: ClassicSpec): Tool {
  return {
    name: spec.name,
    description: spec.description,
    options: [],
    examples: spec.examples ?? [['', spec.description.replace(/^./, (c) => c.toLowerCase())]],
    unavailable: spec.unavailable,
    program: () => render(readTemplate(spec.name), spec.vars?.() ?? {}),
    hooks: () => ({ exitMaps: 'bpftrace' }),
  };
}

/** `@name[k] = "v";` lines, one per entry, indented for a BEGIN block. */
export function tableLines(map: string, entries: [number, string][]): string {
  return entries.map(([k, v]) => `\t@${map}[${k}] = "${v}";`).join('\n');
}

/** The value -> name table of a tracepoint field's __print_symbolic(), from its format file. */
export function symbolicTable(category: string, event: string, field: string): [number, string][] {
  const text = eventFormat(category, event).printFmt;
  const at = text.indexOf(`__print_symbolic(REC->${field},`);
  if (at < 0) return [];
  const out: [number, string][] = [];
  const re = /\{\s*(-?\d+)\s*,\s*"([^"]*)"\s*\}/y;
  let i = text.indexOf('{', at);
  while (i >= 0) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) break;
    out.push([Number(m[1]), m[2]]);
    i = re.lastIndex;
    while (text[i] === ',' || text[i] === ' ') i++;
    if (text[i] !== '{') break;
  }
  return out;
}

/** Which of `funcs` the library `lib` (as uprobes name it: "c", "ssl") defines. */
export function libraryDefines(lib: string, funcs: string[]): string[] {
  const path = findLibrary(lib);
  if (!path) return [];
  try {
    const have = new Set(openElf(path).symbols().filter((s) => s.type === 'func' && s.addr !== 0).map((s) => s.plain));
    return funcs.filter((f) => have.has(f));
  } catch {
    return [];
  }
}
