// The shape of one ready-made tool: its options (BCC's, for the tools BCC
// has), the program they produce, and whether this kernel can run it.
import { existsSync } from 'node:fs';
import { hasFentry, hasKprobes, hasUprobes } from '../bpf/features.js';
import { eventFormat } from '../probes/tracefs.js';
import type { ToolSpec, Parsed } from './options.js';
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
