// Entry point of bin/bpfkit. Kept small: it checks what it must before any
// syscall, dispatches, and turns every failure into one `ERROR:` line, never
// a stack trace.
import { hasBpfPrivileges } from '../bpf/features.js';
import { installExitHandlers } from '../bpf/fds.js';
import { SysError } from '../bpf/sys.js';
import { runInfo } from './info.js';

const NEED_ROOT = 'ERROR: bpfkit needs root (CAP_BPF and CAP_PERFMON): run it with sudo';

const USAGE = `USAGE:
    bpfkit --info

OPTIONS:
    --info         print information about kernel BPF support
`;

function fail(e: unknown): never {
  if (e instanceof SysError && (e.code === 'EPERM' || e.code === 'EACCES') && !hasBpfPrivileges()) {
    process.stderr.write(`${NEED_ROOT}\n`);
  } else {
    process.stderr.write(`ERROR: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  process.exit(1);
}

function main(argv: string[]): number {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 1 : 0;
  }
  if (argv.length === 1 && argv[0] === '--info') {
    if (!hasBpfPrivileges()) {
      process.stderr.write(`${NEED_ROOT}\n`);
      return 1;
    }
    installExitHandlers();
    return runInfo();
  }
  process.stderr.write(`ERROR: unknown arguments: ${argv.join(' ')}\n${USAGE}`);
  return 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  fail(e);
}
