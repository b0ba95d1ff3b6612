// The ready-made tools (issue: tools). Each tool is NAME.bt plus NAME.ts for
// its options; this file is the table the CLI consults.
import type { Io } from '../cli/trace.js';

export function isTool(name: string): boolean {
  return false && name.length > 0;
}

export function listTools(io: Io): number {
  io.out('');
  return 0;
}

export async function runTool(name: string, _argv: string[], io: Io): Promise<number> {
  io.err(`ERROR: unknown tool ${name}\n`);
  return 1;
}
