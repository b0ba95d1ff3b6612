// Entry point of bin/bpfkit. It parses bpftrace's flags, checks privileges
// before any syscall, dispatches (trace, -l, --info, tools), and turns every
// failure into one `ERROR:` line, never a stack trace.
import { hasBpfPrivileges } from '../bpf/features.js';
import { installExitHandlers } from '../bpf/fds.js';
import { SysError } from '../bpf/sys.js';
import { CompileError } from '../lang/diagnostics.js';
import { runInfo, bpfkitVersion } from './info.js';
import { parseArgs, UsageError, USAGE } from './args.js';
import { runTrace, CliFailure } from './trace.js';
import { batched, stdoutWrite } from './batch.js';
import { namesTool, noteRun } from './cachetags.js';

const NEED_ROOT = 'ERROR: bpfkit needs root (CAP_BPF and CAP_PERFMON): run it with sudo';

// Batched: what one drain of events formats goes out in one write.
const stdout = batched(stdoutWrite());
process.on('exit', () => stdout.flush());
function writeOut(s: string): void {
  stdout.write(s);
}
function writeErr(s: string): void {
  stdout.flush();
  process.stderr.write(s);
}

function fail(e: unknown): number {
  if (e instanceof CompileError) {
    writeErr(e.message.endsWith('\n') ? e.message : e.message + '\n');
  } else if (e instanceof SysError && (e.code === 'EPERM' || e.code === 'EACCES') && !hasBpfPrivileges()) {
    writeErr(`${NEED_ROOT}\n`);
  } else if (e instanceof CliFailure || e instanceof UsageError) {
    writeErr(e.message.endsWith('\n') ? e.message : e.message + '\n');
  } else {
    writeErr(`ERROR: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.BPFKIT_DEBUG && e instanceof Error) writeErr(`${e.stack}\n`);
  }
  return 1;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    writeOut(USAGE);
    return 1;
  }
  // `bpfkit NAME [options]` runs a ready-made tool; `bpfkit tools` lists them.
  if (namesTool(argv[0])) {
    const { isTool, runTool, listTools } = await import('../tools/index.js');
    if (argv[0] === 'tools') return listTools({ out: writeOut, err: writeErr });
    if (isTool(argv[0])) {
      noteRun('tool');
      if (!argv.slice(1).some((a) => a === '-h' || a === '--help' || a === '--program') && !hasBpfPrivileges()) {
        writeErr(`${NEED_ROOT}\n`);
        return 1;
      }
      installExitHandlers();
      return runTool(argv[0], argv.slice(1), { out: writeOut, err: writeErr });
    }
  }
  const args = parseArgs(argv);
  if (args.help) {
    writeOut(USAGE);
    return 0;
  }
  if (args.version) {
    writeOut(`${bpfkitVersion()}\n`);
    return 0;
  }
  const needsKernel = args.info || args.list || !args.dryRun;
  if (needsKernel && !hasBpfPrivileges()) {
    writeErr(`${NEED_ROOT}\n`);
    return 1;
  }
  installExitHandlers();
  if (args.info) {
    noteRun('info');
    return runInfo();
  }
  if (args.list) {
    noteRun('list');
    const { runList } = await import('./list.js');
    return runList(args, { out: writeOut, err: writeErr });
  }
  return runTrace(args, { out: writeOut, err: writeErr });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = fail(e);
  },
);
