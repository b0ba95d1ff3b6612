// The ready-made tools: `bpfkit NAME [options]` runs one, `bpfkit tools`
// lists them with whether this kernel can run them. Each tool is NAME.bt (the
// program) plus NAME.ts (its options); this file is the table the CLI reads.
import type { Io } from '../cli/trace.js';
import { helpText, parseOptions, ToolUsageError } from './options.js';
import { runProgram, ToolFailure } from './runner.js';
import type { Tool } from './tool.js';
import { bashreadline } from './bashreadline.js';
import { biolatency } from './biolatency.js';
import { biosnoop } from './biosnoop.js';
import { biostacks } from './biostacks.js';
import { bitesize } from './bitesize.js';
import { capable } from './capable.js';
import { cpuwalk } from './cpuwalk.js';
import { dcsnoop } from './dcsnoop.js';
import { execsnoop } from './execsnoop.js';
import { gethostlatency } from './gethostlatency.js';
import { killsnoop } from './killsnoop.js';
import { loads } from './loads.js';
import { mdflush } from './mdflush.js';
import { naptime } from './naptime.js';
import { oomkill } from './oomkill.js';
import { opensnoop } from './opensnoop.js';
import { pidpersec } from './pidpersec.js';
import { runqlat } from './runqlat.js';
import { runqlen } from './runqlen.js';
import { setuids } from './setuids.js';
import { ssllatency } from './ssllatency.js';
import { sslsnoop } from './sslsnoop.js';
import { statsnoop } from './statsnoop.js';
import { swapin } from './swapin.js';
import { syncsnoop } from './syncsnoop.js';
import { syscount } from './syscount.js';
import { tcpaccept } from './tcpaccept.js';
import { tcpconnect } from './tcpconnect.js';
import { tcpdrop } from './tcpdrop.js';
import { tcplife } from './tcplife.js';
import { tcpretrans } from './tcpretrans.js';
import { tcpsynbl } from './tcpsynbl.js';
import { threadsnoop } from './threadsnoop.js';
import { undump } from './undump.js';
import { vfscount } from './vfscount.js';
import { vfsstat } from './vfsstat.js';
import { writeback } from './writeback.js';
import { xfsdist } from './xfsdist.js';

const TOOLS: Tool[] = [
  bashreadline, biolatency, biosnoop, biostacks, bitesize, capable, cpuwalk, dcsnoop, execsnoop, gethostlatency, killsnoop, loads, mdflush, naptime, oomkill, opensnoop, pidpersec, runqlat, runqlen, setuids, ssllatency, sslsnoop, statsnoop, swapin, syncsnoop, syscount, tcpaccept, tcpconnect, tcpdrop, tcplife, tcpretrans, tcpsynbl, threadsnoop, undump, vfscount, vfsstat, writeback, xfsdist,
];

const byName = new Map(TOOLS.map((t) => [t.name, t]));

export function isTool(name: string): boolean {
  return byName.has(name);
}

export function toolNames(): string[] {
  return TOOLS.map((t) => t.name).sort();
}

export function findTool(name: string): Tool | undefined {
  return byName.get(name);
}

/** Why `tool` cannot run here, or undefined. Failures of the check itself count as reasons. */
export function unavailableReason(tool: Tool): string | undefined {
  try {
    return tool.unavailable?.();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export function listTools(io: Io): number {
  const rows = toolNames().map((n) => {
    const t = byName.get(n)!;
    const why = unavailableReason(t);
    return { n, ok: why ? 'no' : 'yes', text: why ? `${t.description} (cannot run here: ${why})` : t.description };
  });
  const w = Math.max(...rows.map((r) => r.n.length), 4);
  io.out(`${'TOOL'.padEnd(w)}  RUNS  DESCRIPTION\n`);
  for (const r of rows) io.out(`${r.n.padEnd(w)}  ${r.ok.padEnd(4)}  ${r.text}\n`);
  return 0;
}

export async function runTool(name: string, argv: string[], io: Io): Promise<number> {
  const tool = byName.get(name);
  if (!tool) {
    io.err(`ERROR: unknown tool ${name}\n`);
    return 1;
  }
  try {
    const o = parseOptions(tool, argv);
    if (o.help) {
      io.out(helpText(tool));
      return 0;
    }
    if (o.program) {
      const program = tool.program(o);
      io.out(program.endsWith('\n') ? program : program + '\n');
      return 0;
    }
    // Checked before the program is built: building may need what is missing.
    const why = unavailableReason(tool);
    if (why) {
      io.err(`bpfkit ${name}: cannot run on this kernel: ${why}\n`);
      return 1;
    }
    return await runProgram(name, tool.program(o), io, tool.hooks?.(o));
  } catch (e) {
    if (e instanceof ToolUsageError) {
      io.err(e.message.endsWith('\n') ? e.message : e.message + '\n');
      return e.code;
    }
    if (e instanceof ToolFailure) {
      io.err(e.message.endsWith('\n') ? e.message : e.message + '\n');
      return 1;
    }
    throw e;
  }
}
