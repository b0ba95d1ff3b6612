// Runs a bpftrace-language program under bpfkit's CLI (or Debian's bpftrace,
// for comparisons) around a workload the test controls: start the tracer,
// wait until it has attached, run the workload, stop the tracer with SIGINT
// unless the program exits by itself, and return what it printed.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileC, repoRoot } from './fixtures.js';

export const BPFKIT = join(repoRoot, 'bin/bpfkit');
export const WORKLOAD_COMM = 'bpfkit_wl';

let workloadPath: string | undefined;
/** The workload binary (test/fixtures/workload.c); its comm is WORKLOAD_COMM. */
export function workload(): string {
  workloadPath ??= compileC('workload', [], WORKLOAD_COMM);
  return workloadPath;
}

/**
 * Programs filter on `comm == "bpfkit_wl"`; another test run on the same
 * machine would match too. trace() therefore runs the workload under a
 * per-process name of the same length (a symlink: comm comes from the name
 * exec'd), rewrites the program to filter on it, and maps it back in the output.
 */
const RUN_COMM = `bpfkit_${(process.pid * 7 + Math.floor(Math.random() * 1296)).toString(36).slice(-2).padStart(2, '0')}`;
let runLink: string | undefined;
function uniqueWorkload(): string {
  if (runLink && existsSync(runLink)) return runLink;
  const dir = join(tmpdir(), `bpfkit-wl-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  runLink = join(dir, RUN_COMM);
  if (!existsSync(runLink)) symlinkSync(workload(), runLink);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return runLink;
}
// Only the quoted name: paths to the binary in uprobe attach points stay as they are.
const toRun = (s: string) => s.split(`"${WORKLOAD_COMM}"`).join(`"${RUN_COMM}"`);
const fromRun = (s: string) => s.split(RUN_COMM).join(WORKLOAD_COMM);

export function haveBpftrace(): boolean {
  return existsSync('/usr/bin/bpftrace');
}

export interface TraceRun {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** pid of the workload process, when one ran. */
  workloadPid?: number;
}

export interface TraceOpts {
  /** Workload actions (see test/fixtures/workload.c), run after attach. */
  workload?: string[];
  /** Extra CLI arguments before -e (e.g. ['-f', 'json']). */
  flags?: string[];
  /** Positional parameters after the program. */
  positional?: string[];
  tool?: 'bpfkit' | 'bpftrace';
  /** Hard limit; the tracer is killed after it. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Send SIGINT after the workload (default true; programs that exit() themselves need not). */
  interrupt?: boolean;
  stdin?: string;
  /**
   * Wait after the banner before the workload starts. bpftrace prints its
   * banner before attaching (and installs its SIGINT handler after), so it
   * gets longer by default.
   */
  settleMs?: number;
  /** Run this script file instead of `-e program` (the program argument is then ignored). */
  script?: string;
}

export function trace(program: string, opts: TraceOpts = {}): Promise<TraceRun> {
  const tool = opts.tool ?? 'bpfkit';
  const cmd = tool === 'bpfkit' ? process.execPath : '/usr/bin/bpftrace';
  const unique = !!opts.workload && opts.script === undefined;
  const prog = opts.script !== undefined ? [opts.script] : ['-e', unique ? toRun(program) : program];
  const args = [...(tool === 'bpfkit' ? [BPFKIT] : []), ...(opts.flags ?? []), ...prog, ...(opts.positional ?? [])];
  const settle = opts.settleMs ?? (tool === 'bpftrace' ? 1000 : 100);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let started = false;
    let workloadPid: number | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20000);
    const quiet = (opts.flags ?? []).includes('-q');
    let repeat: NodeJS.Timeout | undefined;
    const interrupt = () => {
      child.kill('SIGINT');
      // bpftrace 0.17 now and then misses a SIGINT and polls on; ask again.
      if (tool === 'bpftrace') repeat ??= setInterval(() => child.kill('SIGINT'), 2000);
    };
    const begin = () => {
      if (started) return;
      started = true;
      if (!opts.workload) {
        if (opts.interrupt) setTimeout(interrupt, 200 + settle);
        return;
      }
      // The banner is printed before BEGIN runs; give BEGIN a moment, then run the workload.
      setTimeout(() => {
        const w = spawn(unique ? uniqueWorkload() : workload(), opts.workload!, { stdio: ['pipe', 'ignore', 'inherit'] });
        workloadPid = w.pid;
        w.stdin.end('go\n');
        w.on('exit', () => {
          if (opts.interrupt !== false) setTimeout(interrupt, 300);
        });
      }, settle);
    };
    child.stdout.on('data', (d) => {
      stdout += d;
      if (/Attaching \d+ probes?\.\.\.|"attached_probes"/.test(stdout)) begin();
    });
    child.stderr.on('data', (d) => (stderr += d));
    if (quiet) setTimeout(begin, 1500);
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else child.stdin.end();
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(repeat);
      resolve(unique ? { stdout: fromRun(stdout), stderr: fromRun(stderr), code, signal, workloadPid } : { stdout, stderr, code, signal, workloadPid });
    });
  });
}

/** Runs the CLI synchronously (no workload), for diagnostics and --dry-run. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): { stdout: string; stderr: string; code: number } {
  try {
    const stdout = execFileSync(process.execPath, [BPFKIT, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20000 });
    return { stdout, stderr: '', code: 0 };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; status?: number };
    return { stdout: x.stdout ?? '', stderr: x.stderr ?? '', code: x.status ?? 1 };
  }
}
