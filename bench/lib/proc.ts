// Process plumbing for benchmarks that run bpfkit's CLI and Debian's bpftrace
// side by side: one-shot runs measured by a small C helper, long-running
// tracers driven around a workload, and the kernel's own run-time counters of
// the programs a tracer loaded.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileC, repoRoot } from '../../test/lib/fixtures.js';

export const BPFKIT = join(repoRoot, 'bin/bpfkit');
export const BPFTRACE = '/usr/bin/bpftrace';
/** The workload's comm: its own name, so tests running concurrently (comm bpfkit_wl) do not mix in. */
export const BENCH_COMM = 'bpfkit_bench';

export type Tool = 'bpfkit' | 'bpftrace';

/** One result line of `npm run bench`: bpfkit's value and, where measured alike, bpftrace's (`ref`). */
export interface Row {
  name: string;
  value: number;
  unit: string;
  ref?: number;
}

/** BENCH_QUICK=1: fewer repetitions and smaller sizes. */
export const quick = !!process.env.BENCH_QUICK;

/** Progress, on stderr so the result table stays clean. */
export const log = (s: string): void => {
  process.stderr.write(`  .. ${s}\n`);
};

/** The tools to compare: bpftrace only where it is installed. */
export function tools(): Tool[] {
  return haveBpftrace() ? ['bpfkit', 'bpftrace'] : ['bpfkit'];
}

export function haveBpftrace(): boolean {
  return existsSync(BPFTRACE);
}

/**
 * The environment both tools run in. NODE_EXTRA_CA_CERTS (set on our build
 * machines) makes every Node process parse a certificate bundle before the
 * first line of JavaScript, about 50 ms here; a user's shell rarely has it,
 * and it says nothing about bpfkit.
 */
export function benchEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return env;
}

export function toolArgv(tool: Tool, args: string[]): string[] {
  return tool === 'bpfkit' ? [process.execPath, BPFKIT, ...args] : [BPFTRACE, ...args];
}

/** bpftrace 0.17 spellings of a program written in bpfkit's (uppercase BEGIN/END, `args->`). */
export function forTool(tool: Tool, program: string): string {
  if (tool === 'bpfkit') return program;
  return program.replace(/\bbegin\b/g, 'BEGIN').replace(/\bend\b/g, 'END').replace(/\bargs\./g, 'args->');
}

let runstatPath: string | undefined;
/** bench/lib/runstat.c, built once into build/bench/bin. */
function runstat(): string {
  if (runstatPath) return runstatPath;
  const src = join(repoRoot, 'bench/lib/runstat.c');
  const dir = join(repoRoot, 'build/bench/bin');
  const bin = join(dir, 'runstat');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) execFileSync('gcc', ['-O2', '-o', bin, src], { stdio: 'inherit' });
  runstatPath = bin;
  return bin;
}

export interface RunStat {
  wallMs: number;
  /** User + system CPU time: steadier than wall time on a busy machine. */
  cpuMs: number;
  /** Time until the `until` text appeared on stdout; NaN without it or when it never did. */
  untilMs: number;
  maxRssKb: number;
  status: number;
}

/** Runs argv once to completion (stdout drained and dropped). With `until`, SIGINT follows that text. */
export function runOnce(argv: string[], until?: string, env = benchEnv()): RunStat {
  const out = execFileSync(runstat(), [...(until ? ['-u', until] : []), '--', ...argv], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
  const r = JSON.parse(out) as { wall_ns: number; until_ns: number; cpu_ns: number; maxrss_kb: number; status: number };
  return { wallMs: r.wall_ns / 1e6, cpuMs: r.cpu_ns / 1e6, untilMs: r.until_ns < 0 ? NaN : r.until_ns / 1e6, maxRssKb: r.maxrss_kb, status: r.status };
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let workloadPath: string | undefined;
/** test/fixtures/workload.c built under BENCH_COMM. */
export function workload(): string {
  workloadPath ??= compileC('workload', [], BENCH_COMM);
  return workloadPath;
}

/** Runs the workload with `actions` (it starts at once: `-n`); resolves when it exits. */
export function runWorkload(actions: string[]): Promise<{ startMs: number; endMs: number }> {
  return new Promise((resolve, reject) => {
    const startMs = performance.now();
    const w = spawn(workload(), ['-n', ...actions], { stdio: 'ignore' });
    w.on('error', reject);
    w.on('exit', (code) => {
      if (code !== 0) reject(new Error(`workload exited with ${code}`));
      else resolve({ startMs, endMs: performance.now() });
    });
  });
}

export interface ProgStats {
  runTimeNs: number;
  runCnt: number;
}

/**
 * Run-time counters of the programs of type `progType` (5: tracepoint) that
 * process `pid` holds, from /proc/PID/fdinfo: it covers both tools without
 * knowing how either names its programs.
 */
export function progStats(pid: number, progType = 5): ProgStats {
  let runTimeNs = 0;
  let runCnt = 0;
  const dir = `/proc/${pid}/fdinfo`;
  for (const fd of readdirSync(dir)) {
    let text: string;
    try {
      text = readFileSync(join(dir, fd), 'utf8');
    } catch {
      continue;
    }
    const type = /^prog_type:\s+(\d+)/m.exec(text);
    if (!type || Number(type[1]) !== progType) continue;
    runTimeNs += Number(/^run_time_ns:\s+(\d+)/m.exec(text)?.[1] ?? 0);
    runCnt += Number(/^run_cnt:\s+(\d+)/m.exec(text)?.[1] ?? 0);
  }
  return { runTimeNs, runCnt };
}

/** How many perf event fds process `pid` holds. */
export function perfEventFds(pid: number): number {
  let n = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:[perf_event]') n++;
      } catch {
        // Closed meanwhile.
      }
    }
  } catch {
    // Exited.
  }
  return n;
}

export interface TracerOpts {
  env?: NodeJS.ProcessEnv;
  flags?: string[];
  /** Lines matching this are counted as data (default: none). */
  dataLine?: RegExp;
  /** Keep the whole output (only for small outputs). */
  keep?: boolean;
}

/**
 * A tracer running in the background with its stdout drained: lines are
 * counted as they arrive (and timestamped), `Lost N events` lines summed.
 */
export class Tracer {
  readonly child: ChildProcess;
  lines = 0;
  dataLines = 0;
  lastDataMs = 0;
  lost = 0;
  text = '';
  stderr = '';
  private partial = '';
  private bannerSeen = false;
  private banner: Promise<void>;
  private exited: Promise<number | null>;
  exitMs = 0;

  constructor(readonly tool: Tool, program: string, private readonly opts: TracerOpts = {}) {
    const [cmd, ...args] = toolArgv(tool, [...(opts.flags ?? []), '-e', forTool(tool, program)]);
    this.child = spawn(cmd, args, { env: benchEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let onBanner!: () => void;
    this.banner = new Promise((r) => (onBanner = r));
    this.child.stdout!.setEncoding('latin1');
    this.child.stdout!.on('data', (d: string) => {
      if (opts.keep) this.text += d;
      const parts = (this.partial + d).split('\n');
      this.partial = parts.pop()!;
      const now = performance.now();
      for (const l of parts) {
        this.lines++;
        if (opts.dataLine?.test(l)) {
          this.dataLines++;
          this.lastDataMs = now;
        } else if (l.startsWith('Lost ')) this.lost += Number(l.split(' ')[1]) || 0;
        else if (!this.bannerSeen && /^Attaching \d+ probes?\.\.\./.test(l)) {
          this.bannerSeen = true;
          onBanner();
        }
      }
    });
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => {
      this.exitMs = performance.now();
      resolve(code);
    }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Resolves once the banner is out and the tracer holds `perfEvents` perf
   * event fds (how both tools attach tracepoints): bpftrace prints its banner
   * before attaching, and with a big map to create that can take a while.
   */
  async attached(perfEvents = 1, timeoutMs = 20_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.tool} did not attach: ${this.stderr.trim().split('\n').pop()}`)), timeoutMs);
    });
    const exited = this.exited.then(() => {
      throw new Error(`${this.tool} exited before attaching: ${this.stderr.trim().split('\n').pop()}`);
    });
    const ready = (async () => {
      await this.banner;
      while (perfEventFds(this.pid) < perfEvents) await sleep(10);
    })();
    try {
      await Promise.race([ready, t, exited]);
    } finally {
      clearTimeout(timer);
    }
    await sleep(50);
  }

  /**
   * Waits until `n` data lines arrived, none arrived for `quietMs`, or
   * `maxMs` passed (other processes' events can keep an unfiltered probe busy).
   */
  async settle(n: number, quietMs = 1000, maxMs = 15_000): Promise<void> {
    let last = this.dataLines;
    let since = performance.now();
    const end = since + maxMs;
    while (this.dataLines < n && performance.now() < end) {
      await sleep(20);
      if (this.dataLines !== last) {
        last = this.dataLines;
        since = performance.now();
      } else if (performance.now() - since > quietMs) return;
    }
  }

  /** SIGINT, then waits for exit; resolves with ms from the signal to the end of its output. */
  async stop(timeoutMs = 60_000): Promise<number> {
    const t0 = performance.now();
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    return this.exitMs - t0;
  }
}
