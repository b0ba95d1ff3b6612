// bpftrace's command line: the same flags, the same environment settings.
import { ringSizeFor } from '../bpf/map.js';

export interface CliArgs {
  program?: string;
  file?: string;
  positional: string[];
  format: 'text' | 'json';
  output?: string;
  quiet: boolean;
  debug: Set<string>;
  dryRun: boolean;
  unsafe: boolean;
  list: boolean;
  listPattern?: string;
  verbose: boolean;
  pid?: number;
  cmd?: string;
  info: boolean;
  version: boolean;
  help: boolean;
  warnings: boolean;
  helperErrors: number;
  includes: string[];
  buffering?: string;
}

export class UsageError extends Error {}

export const USAGE = `USAGE:
    bpfkit [options] filename
    bpfkit [options] - <stdin input>
    bpfkit [options] -e 'program'
    bpfkit TOOL [tool options]        (bpfkit tools lists them)

OPTIONS:
    -B MODE        output buffering mode ('full', 'none')
    -f FORMAT      output format ('text', 'json')
    -o file        redirect bpfkit output to file
    -d STAGE       debug info: ast, codegen, verifier, all
    --dry-run      compile and load nothing: checks the program
    -e 'program'   execute this program
    -h, --help     show this help message
    -I DIR         add the directory to the include search path (accepted, unused)
    --include FILE add an #include file before preprocessing (accepted, unused)
    -l [search]    list probes
    -p PID         enable USDT probes on PID
    -c 'CMD'       run CMD and enable USDT probes on resulting process
    --unsafe       allow unsafe builtin functions
    -q             keep messages quiet
    --info         print information about kernel BPF support
    -k             emit a warning when a bpf helper returns an error (except read functions)
    -kk            check all bpf helper functions
    -V, --version  bpfkit version
    --no-warnings  disable all warning messages

ENVIRONMENT:
    BPFTRACE_STRLEN             [default: 1024] bytes on BPF stack per str()
    BPFTRACE_MAP_KEYS_MAX       [default: 4096] max keys in a map
    BPFTRACE_PERF_RB_PAGES      [default: 128 per CPU, 512 to 4096] pages of the event ring buffer
    BPFTRACE_MAX_PROBES         [default: 512] max number of probes

EXAMPLES:
bpfkit -l '*sleep*'
    list probes containing "sleep"
bpfkit -e 'tracepoint:syscalls:sys_enter_nanosleep { printf("PID %d sleeping...\\n", pid); }'
    trace processes calling sleep
bpfkit -e 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'
    count syscalls by process name
`;

export function parseArgs(argv: string[]): CliArgs {
  const a: CliArgs = {
    positional: [], format: 'text', quiet: false, debug: new Set(), dryRun: false, unsafe: false, list: false,
    verbose: false, info: false, version: false, help: false, warnings: true, helperErrors: 0, includes: [],
  };
  const need = (i: number, flag: string): string => {
    if (i >= argv.length) throw new UsageError(`${flag} requires an argument`);
    return argv[i];
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const s = argv[i];
    // The first non-option is the script file, or after -e the first positional parameter.
    if (!s.startsWith('-')) break;
    if (s === '--') {
      i++;
      break;
    }
    switch (s) {
      case '-e':
        a.program = need(++i, '-e');
        break;
      case '-f': {
        const f = need(++i, '-f');
        if (f !== 'text' && f !== 'json') throw new UsageError(`Invalid output format "${f}"\nValid formats: 'text', 'json'`);
        a.format = f;
        break;
      }
      case '-o':
        a.output = need(++i, '-o');
        break;
      case '-q':
        a.quiet = true;
        break;
      case '-d':
      case '--debug': {
        const next = argv[i + 1];
        if (next && /^(ast|codegen|verifier|all|dis|types|parse|codegen-opt|libbpf)(,|$)/.test(next)) {
          for (const d of next.split(',')) a.debug.add(d);
          i++;
        } else a.debug.add('all');
        break;
      }
      case '-dd':
        a.debug.add('all');
        a.debug.add('verifier');
        break;
      case '-v':
        a.verbose = true;
        break;
      case '--dry-run':
        a.dryRun = true;
        break;
      case '--unsafe':
        a.unsafe = true;
        break;
      case '-l':
        a.list = true;
        break;
      case '-lv':
      case '-vl':
        a.list = true;
        a.verbose = true;
        break;
      case '-p': {
        const p = need(++i, '-p');
        if (!/^\d+$/.test(p)) throw new UsageError(`pid '${p}' is not a valid decimal number`);
        a.pid = Number(p);
        break;
      }
      case '-c':
        a.cmd = need(++i, '-c');
        break;
      case '--info':
        a.info = true;
        break;
      case '-V':
      case '--version':
        a.version = true;
        break;
      case '-h':
      case '--help':
        a.help = true;
        break;
      case '--no-warnings':
        a.warnings = false;
        break;
      case '-k':
        a.helperErrors = 1;
        break;
      case '-kk':
        a.helperErrors = 2;
        break;
      case '-I':
        a.includes.push(need(++i, '-I'));
        break;
      case '--include':
        a.includes.push(need(++i, '--include'));
        break;
      case '-B':
        a.buffering = need(++i, '-B');
        break;
      default:
        if (s === '-') {
          a.file = '-';
          i++;
          break;
        }
        throw new UsageError(`unrecognized option '${s}'`);
    }
    if (a.file === '-') break;
  }
  const rest = argv.slice(i);
  if (a.list) {
    if (a.program === undefined && rest.length) a.listPattern = rest.shift();
    a.positional = rest;
    return a;
  }
  if (a.program === undefined && a.file === undefined && rest.length) a.file = rest.shift();
  a.positional = rest;
  return a;
}

/** BPFTRACE_* settings that change compilation. */
export function envOptions(env: NodeJS.ProcessEnv): { maxStrlen?: number; mapKeysMax?: number; ringSize?: number } {
  const out: { maxStrlen?: number; mapKeysMax?: number; ringSize?: number } = {};
  const num = (k: string): number | undefined => {
    const v = env[k];
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v)) throw new UsageError(`Env var '${k}' did not contain a valid uint64_t, or was zero-valued.`);
    return Number(v);
  };
  const s = num('BPFTRACE_STRLEN');
  if (s !== undefined) out.maxStrlen = s;
  const k = num('BPFTRACE_MAP_KEYS_MAX');
  if (k !== undefined) out.mapKeysMax = k;
  const p = num('BPFTRACE_PERF_RB_PAGES');
  if (p !== undefined) out.ringSize = ringSizeFor(p * 4096);
  return out;
}
