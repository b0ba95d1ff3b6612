// Probe-side costs that grow with the size of a wildcard or of a stack map,
// bpfkit against Debian's bpftrace 0.17 on the same fixture in the same run:
//   - attaching ~1000 uprobes by wildcard (until BEGIN runs), and the exit
//     after Ctrl-C that detaches them (the kernel waits for RCU grace periods
//     per uprobe: minutes, in both tools);
//   - printing a map of 1000 distinct user stacks (~12,000 frames) from a
//     live process, and the printer's symbolizer alone on the same frames.
// BENCH_QUICK=1 attaches 100 uprobes instead of 1000.
import { execFileSync, spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { compileC } from '../test/lib/fixtures.js';
import { kernelSymbolizer } from '../src/runtime/printer.js';
import { forgetProcess } from '../src/symbols/procmaps.js';
import { BPFTRACE, benchEnv, sleep, toolArgv, type Tool, type Row, quick, log, tools } from './lib/proc.js';


/** test/fixtures/stk_many.c: fn_000..fn_999, each a distinct 12-frame chain down to a getppid. */
function fixture(): string {
  return realpathSync(compileC('stk_many', ['-O0', '-fno-omit-frame-pointer', '-no-pie'], 'stk_many'));
}

// bpftrace refuses more than 512 probes unless told otherwise.
const ENV = benchEnv({ BPFTRACE_MAX_PROBES: '4096' });

/**
 * Starts the tracer, notes when `until` appears, then sends SIGINT and times
 * the exit. bpftrace 0.17 now and then misses a SIGINT; it is asked again
 * until it answers (prints its maps, before it detaches). bpfkit detaches
 * first and is asked once: a second SIGINT would end it when it is done.
 */
function startStop(argv: string[], until: string): Promise<{ untilMs: number; exitMs: number; code: number | null }> {
  const t0 = performance.now();
  const child = spawn(argv[0], argv.slice(1), { env: ENV, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  let untilMs = NaN;
  let sigintAt = 0;
  let again: NodeJS.Timeout | undefined;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
    if (Number.isNaN(untilMs) && out.includes(until)) {
      untilMs = performance.now() - t0;
      sigintAt = performance.now();
      child.kill('SIGINT');
      if (argv[0] === BPFTRACE) again = setInterval(() => child.kill('SIGINT'), 2000);
    }
    if (sigintAt && out.includes('\n@')) clearInterval(again);
  });
  const limit = setTimeout(() => child.kill('SIGKILL'), 900_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(again);
      clearTimeout(limit);
      resolve({ untilMs, exitMs: sigintAt ? performance.now() - sigintAt : NaN, code });
    });
  });
}

async function attach(rows: Row[]): Promise<void> {
  const bin = fixture();
  const pattern = quick ? 'fn_0*' : 'fn_*';
  const n = quick ? 100 : 1000;
  const program = `uprobe:${bin}:${pattern} { @ = count(); } BEGIN { printf("ready\\n"); }`;
  const attachMs = new Map<Tool, number>();
  const exitMs = new Map<Tool, number>();
  for (const t of tools()) {
    log(`${t}: ${n} uprobes (the exit takes long: the kernel detaches them one grace period at a time)`);
    const r = await startStop(toolArgv(t, ['-e', program]), 'ready');
    if (r.code !== 0 || Number.isNaN(r.untilMs)) throw new Error(`${t} failed with ${n} uprobes (exit code ${r.code})`);
    attachMs.set(t, r.untilMs);
    exitMs.set(t, r.exitMs);
  }
  rows.push({ name: `${n} uprobes by wildcard: start until BEGIN runs`, value: attachMs.get('bpfkit')!, unit: 'ms', ref: attachMs.get('bpftrace') });
  rows.push({ name: `${n} uprobes by wildcard: Ctrl-C until exit (detach)`, value: exitMs.get('bpfkit')!, unit: 'ms', ref: exitMs.get('bpftrace') });
}

interface Dump {
  ms: number;
  keys: number;
  frames: number;
  unresolved: number;
}

/**
 * Runs `tool` on the live fixture until its interval probe exits, and times
 * the map print: from the line the interval probe prints to the tool's exit.
 */
function dumpStacks(tool: Tool, pid: number): Promise<Dump> {
  const program = 'tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @[ustack] = count(); } interval:s:2 { printf("dump\\n"); exit(); }';
  const [cmd, ...args] = toolArgv(tool, ['-e', program, String(pid)]);
  const child = spawn(cmd, args, { env: ENV, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  let t0 = 0;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
    if (!t0 && out.includes('dump\n')) t0 = performance.now();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      if (!t0) return reject(new Error(`${tool} printed no dump line`));
      const lines = out.split('\n');
      resolve({
        ms: performance.now() - t0,
        keys: lines.filter((l) => l === '@[').length,
        frames: lines.filter((l) => /^ {4}\S/.test(l)).length,
        unresolved: lines.filter((l) => /^ {4}0x/.test(l)).length,
      });
    });
  });
}

async function symbolise(rows: Row[]): Promise<void> {
  const bin = fixture();
  const proc = spawn(bin, ['loop', '1000'], { stdio: 'ignore' });
  await sleep(300);
  const pid = proc.pid!;
  try {
    const dumps = new Map<Tool, Dump>();
    for (const t of tools()) {
      log(`${t}: printing 1000 user stacks`);
      const d = await dumpStacks(t, pid);
      if (d.unresolved) log(`${t}: ${d.unresolved} frames printed as addresses`);
      dumps.set(t, d);
    }
    const get = (f: (d: Dump) => number) => ({ value: f(dumps.get('bpfkit')!), ref: dumps.has('bpftrace') ? f(dumps.get('bpftrace')!) : undefined });
    rows.push({ name: 'map of 1000 ustack keys: print time (exit() to exit)', unit: 'ms', ...get((d) => d.ms) });
    rows.push({ name: 'map of 1000 ustack keys: frames printed', unit: 'frames', ...get((d) => d.frames) });
    rows.push({ name: 'map of 1000 ustack keys: print time per frame', unit: 'us', ...get((d) => (d.ms * 1000) / d.frames) });

    // The printer's symbolizer alone, on the same frames: the return addresses of every chain.
    const frames = chainAddresses(bin);
    const sym = kernelSymbolizer();
    forgetProcess(pid);
    let t = performance.now();
    for (const a of frames) sym.usym!(a, pid);
    const cold = performance.now() - t;
    t = performance.now();
    for (const a of frames) sym.usym!(a, pid);
    const warm = performance.now() - t;
    rows.push({ name: `printer usym() on ${frames.length} frames, first time (maps + ELF)`, value: cold, unit: 'ms' });
    rows.push({ name: `printer usym() on ${frames.length} frames, again`, value: (warm * 1e6) / frames.length, unit: 'ns/frame' });
  } finally {
    proc.kill('SIGKILL');
  }
}

/** 12 addresses per fn_NNN chain, as a stack of the non-PIE fixture holds them (inside each function). */
function chainAddresses(bin: string): bigint[] {
  const syms = new Map<string, bigint>();
  const nm = execFileSync('nm', [bin], { encoding: 'utf8' });
  for (const line of nm.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length === 3 && /^[Tt]$/.test(f[1])) syms.set(f[2], BigInt(`0x${f[0]}`));
  }
  const out: bigint[] = [];
  const inner = ['leaf', 'd8', 'd7', 'd6', 'd5', 'd4', 'd3', 'd2', 'd1'].map((s) => syms.get(s)! + 9n);
  for (let i = 0; i < 1000; i++) {
    const fn = syms.get(`fn_${String(i).padStart(3, '0')}`)!;
    out.push(...inner, fn + 9n, syms.get('main')! + 9n, syms.get('_start')! + 9n);
  }
  return out;
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  await symbolise(rows);
  await attach(rows);
  return rows;
}
