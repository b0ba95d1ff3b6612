// `-l [pattern]`: lists probes the way bpftrace 0.17 does.
import { loadProviders, providers } from '../probes/index.js';
import { listProbes } from '../probes/list.js';
import type { CliArgs } from './args.js';
import type { Io } from './trace.js';

export async function runList(args: CliArgs, io: Io): Promise<number> {
  await loadProviders();
  const provs = providers({ maxStrlen: 1024 });
  const lines = listProbes(args.listPattern ?? args.program, args.verbose, provs, { pid: args.pid, warn: (m) => io.err(`WARNING: ${m}\n`) });
  io.out(lines.map((l) => l + '\n').join(''));
  return 0;
}
